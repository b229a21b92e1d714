import { createHash } from "node:crypto";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { DAY_MS, isoTime, type RotationPlan, type SlotName, type SlotPlan } from "../rotation";
import { publishedOf, RotatingCredential, type RotatingCredentialArgs } from "./published-credential";

/** Content type of a published certificate: its private key and certificate, PEM, as Key Vault exports them. */
export const CERTIFICATE_CONTENT_TYPE = "application/x-pem-file";

/** Name of a certificate caller's secret in Key Vault, e.g. `sap-client-certificate`. */
export function certificateSecretName(caller: string): string {
  return `${caller}-client-certificate`;
}

/**
 * Pulumi CLI versions that replace a resource when its `replacementTrigger` changes (3.208) without
 * firing when only the trigger's dependencies change (fixed in 3.226). An older CLI ignores the option:
 * the key of a slot would never be replaced, so certificate callers refuse to run with one.
 */
export const KEY_ROTATION_CLI = ">=3.226.0";

/** Extra validity of a slot's X.509 certificate beyond its Entra credential's end (the longest rotationDays and a day). */
export const CERTIFICATE_VALIDITY_MARGIN_MS = 366 * DAY_MS;

const HOUR_MS = 3_600_000;

/**
 * How long a slot's certificate is valid, in hours from its creation (which is at or after the slot's
 * start): past the slot's end by {@link CERTIFICATE_VALIDITY_MARGIN_MS}. The TLS provider re-issues a
 * certificate whose validity has ended on its own, at any run; with the margin, a slot that outlives its
 * end (the unpublished one, until its next boundary, at most rotationDays later) never is: only the
 * plan replaces keys and certificates. Entra stops accepting the credential at its own end date.
 */
export function certificateValidityHours(slot: Pick<SlotPlan, "startMs" | "endMs">): number {
  return Math.ceil((slot.endMs - slot.startMs + CERTIFICATE_VALIDITY_MARGIN_MS) / HOUR_MS);
}

/**
 * Thumbprint (upper-case hex) of the first certificate in `pem`: SHA-256 by default, what `x5t#S256`
 * carries; SHA-1 is what the portal and `az ad app credential list` show (customKeyIdentifier).
 */
export function certificateThumbprint(pem: string, hash: "sha256" | "sha1" = "sha256"): string {
  const body = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!body) throw new Error("not a PEM certificate (no BEGIN CERTIFICATE block)");
  return createHash(hash)
    .update(Buffer.from(body.replace(/\s+/g, ""), "base64"))
    .digest("hex")
    .toUpperCase();
}

/**
 * Common name of a slot's certificate, e.g. `flow-trigger-auth slot a until 2027-05-21T05:17:43Z`: what
 * the portal shows for the credential (like the password's display name; at most 64 characters).
 */
export function certificateCommonName(slot: SlotName, endMs: number): string {
  return `flow-trigger-auth slot ${slot} until ${isoTime(endMs)}`;
}

/** The file a caller reads: private key (PKCS#8) then certificate, PEM, as `ClientCertificateCredential` takes it. */
export function certificateFile(privateKeyPkcs8: string, certPem: string): string {
  return `${privateKeyPkcs8.trimEnd()}\n${certPem.trimEnd()}\n`;
}

/**
 * Fails with what to do when the Pulumi CLI cannot rotate keys ({@link KEY_ROTATION_CLI}); resolves
 * at once without an engine (tests, `validate`).
 */
export async function requireKeyRotation(
  check: (range: string) => Promise<void> = pulumi.requirePulumiVersion,
): Promise<void> {
  try {
    await check(KEY_ROTATION_CLI);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `certificate callers need the Pulumi CLI ${KEY_ROTATION_CLI.slice(2)} or later: their keys are replaced on ` +
        `schedule through the replacementTrigger resource option, which older versions ignore (${detail}). ` +
        "Upgrade the Pulumi CLI (pulumi version shows it) and run again",
    );
  }
}

/** Arguments of {@link RotatingCertificate}. */
export interface RotatingCertificateArgs extends RotatingCredentialArgs {
  /** Settles when keys may be made; fails the run instead. Default: {@link requireKeyRotation}. */
  keyRotationCheck?: Promise<void>;
}

/** One slot: its key, its certificate, and the certificate as an Entra credential of the app. */
interface CertificateSlot {
  key: tls.PrivateKey;
  certificate: tls.SelfSignedCert;
  credential: azuread.ApplicationCertificate;
  /** Its private key and certificate as one PEM file ({@link certificateFile}): a Pulumi secret. */
  file: pulumi.Output<string>;
}

/**
 * Two Entra certificate credentials ("slots") rotated on the same staggered schedule, with the same
 * state, as {@link RotatingClientSecret}'s passwords, and the Key Vault secret holding the published
 * slot's private key and certificate (PEM). Keys are RSA 2048, made by the program (`@pulumi/tls`):
 * they live only in Pulumi state, encrypted as secrets, and in Key Vault; never in an output. A slot's
 * key, certificate and credential are replaced exactly when the plan gives the slot another period or
 * end date (docs/configuration.md#certificates).
 */
export class RotatingCertificate extends RotatingCredential {
  /** SHA-256 thumbprint of the published certificate (upper-case hex), e.g. for callers to check what they hold. */
  public readonly thumbprint: pulumi.Output<string>;
  /** SHA-1 thumbprint of the published certificate (upper-case hex): what the portal and `az ad app credential list` show. */
  public readonly thumbprintSha1: pulumi.Output<string>;
  /** The published certificate alone (PEM): public, what Entra holds. */
  public readonly publishedCertificate: pulumi.Output<string>;

  constructor(name: string, args: RotatingCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    let certificate: pulumi.Output<string> | undefined;
    super(
      "flow-trigger-auth:entra:RotatingCertificate",
      name,
      args,
      {
        what: "certificate",
        contentType: CERTIFICATE_CONTENT_TYPE,
        slots: (owner, plan) => {
          const gate = pulumi.output(args.keyRotationCheck ?? requireKeyRotation());
          const a = certificateSlot(owner, name, args, plan, gate, "a");
          const b = certificateSlot(owner, name, args, plan, gate, "b");
          certificate = publishedOf(plan, a.certificate.certPem, b.certificate.certPem);
          return publishedOf(plan, a.file, b.file);
        },
      },
      opts,
    );
    this.publishedCertificate = certificate!;
    this.thumbprint = this.publishedCertificate.apply((pem) => certificateThumbprint(pem));
    this.thumbprintSha1 = this.publishedCertificate.apply((pem) => certificateThumbprint(pem, "sha1"));
    this.registerOutputs({
      ...this.rotationOutputs(),
      thumbprint: this.thumbprint,
      thumbprintSha1: this.thumbprintSha1,
    });
  }
}

/**
 * One slot's key, certificate and Entra credential. The key has no input that changes with the slot:
 * its `replacementTrigger` (the slot's period and end) replaces it; the certificate and the credential
 * follow, as every input of theirs forces replacement (the new key, the slot's end in their inputs).
 */
function certificateSlot(
  owner: pulumi.Resource,
  name: string,
  args: RotatingCertificateArgs,
  plan: pulumi.Output<RotationPlan>,
  gate: pulumi.Output<void>,
  slot: SlotName,
): CertificateSlot {
  const key = new tls.PrivateKey(
    `${name}-${slot}-key`,
    { algorithm: "RSA", rsaBits: 2048 },
    {
      parent: owner,
      // Registered only once the CLI is known to honour the trigger; else the run fails here.
      dependsOn: gate.apply((): pulumi.Resource[] => []),
      replacementTrigger: plan.apply((p) => ({
        slot,
        period: p[slot].period,
        endDate: isoTime(p[slot].endMs),
      })),
      additionalSecretOutputs: ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"],
    },
  );
  const certificate = new tls.SelfSignedCert(
    `${name}-${slot}-cert`,
    {
      privateKeyPem: key.privateKeyPem,
      subject: { commonName: plan.apply((p) => certificateCommonName(slot, p[slot].endMs)) },
      validityPeriodHours: plan.apply((p) => certificateValidityHours(p[slot])),
      allowedUses: ["digital_signature"],
    },
    { parent: owner, additionalSecretOutputs: ["privateKeyPem"] },
  );
  const credential = new azuread.ApplicationCertificate(
    `${name}-${slot}`,
    {
      applicationId: args.applicationId,
      type: "AsymmetricX509Cert",
      encoding: "pem",
      value: certificate.certPem,
      endDate: plan.apply((p) => isoTime(p[slot].endMs)),
    },
    { parent: owner, ...(args.onError?.length ? { hooks: { onError: args.onError } } : {}) },
  );
  const file = pulumi.secret(
    pulumi.all([key.privateKeyPemPkcs8, certificate.certPem]).apply(([k, c]) => certificateFile(k, c)),
  );
  return { key, certificate, credential, file };
}
