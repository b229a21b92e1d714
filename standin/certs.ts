/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1, generated when needed (by
 * the tests, by the demo), so the stand-in speaks real HTTPS and child processes trust it only through
 * NODE_EXTRA_CA_CERTS.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as selfsigned from "selfsigned";

/** PEM material of the test CA and the server certificate it signed. */
export interface TestCertificates {
  /** The CA certificate (PEM): what a client must trust. */
  caCert: string;
  /** The server's certificate (PEM) for `127.0.0.1` / `localhost`. */
  serverCert: string;
  /** The server's private key (PEM). */
  serverKey: string;
  /** A file holding {@link caCert}: the value for `NODE_EXTRA_CA_CERTS`. */
  caFile: string;
}

let cached: Promise<TestCertificates> | undefined;

/** Generates a CA valid for a day and a server certificate it signed; the CA's PEM is written to `dir`/ca.pem. */
export async function generateCertificates(dir: string): Promise<TestCertificates> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 24 * 3600_000);
  const ca = await selfsigned.generate([{ name: "commonName", value: "flow-trigger-auth test CA" }], {
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: "commonName", value: "127.0.0.1" }], {
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 7, ip: "127.0.0.1" },
          { type: 2, value: "localhost" },
        ],
      },
    ],
  });
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, ca.cert);
  return { caCert: ca.cert, serverCert: server.cert, serverKey: server.private, caFile };
}

/** The certificates of this process (generated once, then reused by every stand-in). */
export function testCertificates(): Promise<TestCertificates> {
  cached ??= generateCertificates(mkdtempSync(join(tmpdir(), "flow-standin-")));
  return cached;
}
