/**
 * `credential: federated`: an app registration that trusts tokens of an outside identity provider
 * (GitHub Actions, another cloud, Kubernetes) for exact issuers and subjects: no secret at all
 * (docs/credentials.md#federated-credentials).
 */
import { z } from "zod";
import { httpsUrl as httpsUrlField, isRecord, patterned, visible } from "../fields/config";
import { guid, httpsUrl, text } from "../fields/outputs";
import { GITHUB_ISSUER, GITHUB_REPOSITORY, githubSubjectProblem, isGitHubIssuer } from "./github-subject";
import { appKeys, callerKeys, callerOutputs, defineKind, owners, itsPrincipal } from "./kind";

/** The audience of a federated credential unless one is given (Entra's recommended value). */
export const DEFAULT_FEDERATED_AUDIENCE = "api://AzureADTokenExchange";

/** Most federated identity credentials Entra allows on one app. */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** Entra's limit on an issuer, a subject or an audience. */
const FEDERATED_TEXT_MAX = 600;

const federatedText = (what: string) =>
  visible(
    z
      .string({ error: `must be ${what}` })
      .min(1, `must be ${what}`)
      .max(FEDERATED_TEXT_MAX, `must be at most ${FEDERATED_TEXT_MAX} characters (Entra's limit)`),
  );

/** `{ github: ... }` in a federated credential: the subject GitHub Actions issues, spelled for people. */
const github = z
  .strictObject({
    /** `owner/repository`, e.g. `contoso/erp-sync`. */
    repository: patterned(
      GITHUB_REPOSITORY,
      "must be OWNER/REPOSITORY as GitHub spells it (Entra compares subjects case-sensitively), e.g. contoso/erp-sync",
    ),
    /** A GitHub environment, e.g. `prod`. */
    environment: visible(
      z
        .string({ error: "must be the name of a GitHub environment, e.g. prod" })
        .min(1, "must be the name of a GitHub environment, e.g. prod")
        .max(255, "must be at most 255 characters (GitHub's limit)")
        .refine((s) => !/[*?\s]/.test(s), {
          error: "must be the environment's exact name: no wildcard or white space (Entra matches exactly)",
        }),
    ).optional(),
    /** A full ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`. */
    ref: visible(
      patterned(
        /^refs\/(heads|tags)\/[^\s*?]+$/,
        "must be a full ref without wildcards: refs/heads/<branch> or refs/tags/<tag>",
      ),
    ).optional(),
    /** Jobs triggered by pull requests. */
    pullRequest: z
      .literal(true, { error: "must be true (jobs of pull requests), or be left out" })
      .optional(),
  })
  .superRefine((g, ctx) => {
    const given = (["environment", "ref", "pullRequest"] as const).filter((k) => g[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          `give exactly one of environment, ref or pullRequest: true (GitHub's subject names exactly one of them)` +
          (given.length ? `; got ${given.join(" and ")}` : ""),
      });
    }
  });

/** `{ github: ... }` as the config gives it. */
export type GitHubFederation = z.infer<typeof github>;

/** `:` inside a subject value, as GitHub writes it. */
const subjectValue = (v: string) => v.replace(/:/g, "%3A");

/** The subject GitHub Actions issues for a job of `github`'s repository and environment, ref or pull request. */
export function githubSubject(github: GitHubFederation): string {
  const context =
    github.environment !== undefined
      ? `environment:${subjectValue(github.environment)}`
      : github.ref !== undefined
        ? `ref:${subjectValue(github.ref)}`
        : "pull_request";
  return `repo:${github.repository}:${context}`;
}

/** One federated credential: `{ issuer, subject, audiences? }` or GitHub's shorthand, expanded to the first. */
const federatedCredential = z
  .strictObject({
    issuer: visible(
      httpsUrlField(`the identity provider's HTTPS issuer URL, e.g. ${GITHUB_ISSUER}`).max(
        FEDERATED_TEXT_MAX,
        `must be at most ${FEDERATED_TEXT_MAX} characters (Entra's limit)`,
      ),
    ).optional(),
    subject: federatedText(
      "the subject of the external tokens, e.g. repo:contoso/erp-sync:environment:prod",
    ).optional(),
    audiences: z
      .array(federatedText("an audience"), {
        error: `must be a list of one audience, e.g. ["${DEFAULT_FEDERATED_AUDIENCE}"]`,
      })
      .length(
        1,
        `must list exactly one audience (Entra takes one per credential), e.g. ["${DEFAULT_FEDERATED_AUDIENCE}"]`,
      )
      .optional(),
    github: github.optional(),
  })
  .superRefine((f, ctx) => {
    const plain = f.issuer !== undefined || f.subject !== undefined;
    if (f.github !== undefined && plain) {
      ctx.addIssue({ code: "custom", message: "give either { issuer, subject } or { github }, not both" });
      return;
    }
    if (f.github === undefined && !plain) {
      ctx.addIssue({
        code: "custom",
        message:
          "give { issuer, subject, audiences? } or { github: { repository, environment | ref | pullRequest } }",
      });
      return;
    }
    if (f.github !== undefined) return;
    if (f.subject === undefined)
      ctx.addIssue({ code: "custom", path: ["subject"], message: "is required with issuer" });
    if (f.issuer === undefined)
      ctx.addIssue({ code: "custom", path: ["issuer"], message: "is required with subject" });
    if (f.issuer === undefined || f.subject === undefined) return;
    if (f.issuer.replace(/\/+$/, "") === GITHUB_ISSUER && f.issuer !== GITHUB_ISSUER) {
      ctx.addIssue({
        code: "custom",
        path: ["issuer"],
        message: `must be exactly ${GITHUB_ISSUER}, without a trailing slash: Entra compares it with the token's iss claim`,
      });
    } else if (isGitHubIssuer(f.issuer)) {
      const problem = githubSubjectProblem(f.subject);
      if (problem) ctx.addIssue({ code: "custom", path: ["subject"], message: problem });
    }
  })
  .transform((f) => ({
    /** Issuer of the external tokens, e.g. `https://token.actions.githubusercontent.com`. */
    issuer: f.github ? GITHUB_ISSUER : f.issuer!,
    /** Their subject, matched exactly and case-sensitively, e.g. `repo:contoso/erp-sync:environment:prod`. */
    subject: f.github ? githubSubject(f.github) : f.subject!,
    /** Their audience (one), by default {@link DEFAULT_FEDERATED_AUDIENCE}. */
    audiences: f.audiences ?? [DEFAULT_FEDERATED_AUDIENCE],
  }));

/** One federated identity credential, GitHub's shorthand expanded. */
export type FederatedCredentialConfig = z.output<typeof federatedCredential>;

/** Issuer and subject of a federated credential as given (expanded or not); undefined when malformed. */
function identityOf(f: unknown): { issuer: string; subject: string } | undefined {
  if (!isRecord(f)) return undefined;
  if (isRecord(f.github)) {
    const parsed = github.safeParse(f.github);
    return parsed.success ? { issuer: GITHUB_ISSUER, subject: githubSubject(parsed.data) } : undefined;
  }
  return typeof f.issuer === "string" && typeof f.subject === "string"
    ? { issuer: f.issuer, subject: f.subject }
    : undefined;
}

/**
 * Federated credentials are unique per issuer and subject: Entra refuses a second one, and matches
 * case-sensitively, so two that differ only in case cannot both be right. Checked on every entry that
 * names both, even when another entry of the list is wrong.
 */
function checkUnique(list: unknown, ctx: z.RefinementCtx): void {
  if (!Array.isArray(list)) return;
  const seen: { key: string; exact: string; index: number }[] = [];
  list.forEach((f: unknown, j) => {
    const found = identityOf(f);
    if (!found) return;
    const exact = `${found.issuer}\n${found.subject}`;
    const key = exact.toLowerCase();
    const first = seen.find((s) => s.key === key);
    if (!first) {
      seen.push({ key, exact, index: j });
      return;
    }
    ctx.addIssue({
      code: "custom",
      path: [j],
      message:
        first.exact === exact
          ? `has the same issuer and subject as federatedCredentials[${first.index}] (${found.subject}); each must be unique`
          : `differs from federatedCredentials[${first.index}] only in letter case (${found.subject}): Entra compares subjects ` +
            "case-sensitively, so keep the one spelled exactly as the identity provider issues it",
    });
  });
}

export const federated = defineKind({
  name: "federated",
  config: z.strictObject({
    ...callerKeys("federated"),
    owners,
    /** 1 to 20 credentials, in the configured order. */
    federatedCredentials: z
      .array(federatedCredential, {
        error: (i) =>
          i.input === undefined
            ? `is required for credential: federated: a list of 1 to ${MAX_FEDERATED_CREDENTIALS} { issuer, subject, audiences? } or { github: { repository, environment | ref | pullRequest } }`
            : `must be a list of 1 to ${MAX_FEDERATED_CREDENTIALS} federated credentials`,
      })
      .min(1, "must list at least 1 federated credential")
      .max(
        MAX_FEDERATED_CREDENTIALS,
        `must list at most ${MAX_FEDERATED_CREDENTIALS} federated credentials (Entra's limit per app)`,
      )
      .superRefine(checkUnique, { when: () => true }),
    ...appKeys,
  }),
  outputs: z.strictObject({
    credential: z.literal("federated"),
    ...callerOutputs,
    applicationObjectId: guid,
    federatedCredentials: z
      .array(z.object({ issuer: httpsUrl, subject: text, audiences: z.array(text).min(1) }))
      .min(1)
      .max(MAX_FEDERATED_CREDENTIALS),
  }),
  vaulted: false,
  rotation: { nothingToRotate: "federated credential: no secret to rotate" },
  notes: "federated credentials",
  allowedUsers: itsPrincipal,
  handoff: {
    label: "federated credential (no secret)",
    todo: () =>
      "No secret to keep: the platform's own OIDC token is exchanged for an Entra token. Run the caller where one of the " +
      "federated credentials above matches (issuer and subject exactly, case included), with the tenant ID and client ID " +
      "above (e.g. GitHub Actions: azure/login with client-id and tenant-id, or @azure/identity WorkloadIdentityCredential).",
  },
});
