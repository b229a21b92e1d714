/**
 * Kept only for test/credential-secret-upgrade.test.ts, which stays byte-for-byte as recorded (it proves
 * that a stack of secret callers declares what it always declared): the mocked engine is
 * engine/mock-engine.ts.
 */
export type { Declared } from "../engine/mock-engine";
