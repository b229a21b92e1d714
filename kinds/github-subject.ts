/**
 * The subjects GitHub Actions issues in its OIDC tokens, as a grammar: what a `federated` caller's
 * subject for GitHub's issuer may be (kinds/federated.ts), so that a subject Entra could never match
 * is refused before it is created (docs/configuration.md#federated-credentials).
 */
import { show } from "../fields/config";

/** The issuer of GitHub Actions' OIDC tokens (GitHub Enterprise Cloud may add `/<enterprise>`). */
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

/** `owner/repository` as GitHub names them, with the optional `@<id>` of immutable subjects. */
export const GITHUB_REPOSITORY =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:@\d+)?\/[A-Za-z0-9._-]{1,100}(?:@\d+)?$/;

/** Claims GitHub may put in a subject (the default template uses `repo` and the context; custom templates others). */
const GITHUB_SUBJECT_CLAIMS = new Set([
  "repo",
  "context",
  "environment",
  "ref",
  "ref_type",
  "ref_protected",
  "actor",
  "actor_id",
  "base_ref",
  "head_ref",
  "event_name",
  "job_workflow_ref",
  "job_workflow_sha",
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "repository_visibility",
  "runner_environment",
  "workflow",
  "workflow_ref",
  "workflow_sha",
  "enterprise",
  "enterprise_id",
  "sha",
  "run_id",
  "run_number",
  "run_attempt",
  "check_run_id",
]);

/** True when `issuer` is GitHub Actions' (GitHub Enterprise Cloud: with `/<enterprise>`). */
export function isGitHubIssuer(issuer: string): boolean {
  return issuer === GITHUB_ISSUER || issuer.startsWith(`${GITHUB_ISSUER}/`);
}

const GITHUB_SUBJECT_FORMS =
  "GitHub's subjects read repo:OWNER/REPO:environment:NAME, repo:OWNER/REPO:ref:refs/heads/BRANCH (or refs/tags/TAG) " +
  "or repo:OWNER/REPO:pull_request, unless the repository uses a custom subject template; Entra compares " +
  "subjects exactly and case-sensitively, so spell owner, repository and environment as GitHub does";

/**
 * Why GitHub Actions never issues `subject`, or undefined when it may: a sequence of `claim:value`
 * pairs (and the bare `pull_request` context), starting with a claim, with no empty part and no
 * wildcard (Entra matches subjects exactly, case-sensitively).
 */
export function githubSubjectProblem(subject: string): string | undefined {
  const reason = ((): string | undefined => {
    if (/[*?]/.test(subject)) return "Entra matches subjects exactly: wildcards match nothing";
    if (/\s/.test(subject)) return "it contains white space";
    const parts = subject.split(":");
    if (!GITHUB_SUBJECT_CLAIMS.has(parts[0])) return `it must start with a claim such as repo:OWNER/REPO`;
    for (let i = 0; i < parts.length; i += 2) {
      const claim = parts[i];
      if (claim === "pull_request") {
        i -= 1;
        continue;
      }
      if (!GITHUB_SUBJECT_CLAIMS.has(claim)) return `"${claim}" is not a claim GitHub puts in subjects`;
      const value = parts[i + 1];
      if (!value) return `${claim} has no value`;
      if (claim === "repo" && !GITHUB_REPOSITORY.test(value)) return `repo "${value}" is not OWNER/REPO`;
      if (claim === "ref" && !/^refs\/\S+\/\S+$/.test(value))
        return `ref "${value}" must be a full ref such as refs/heads/main or refs/tags/v1`;
    }
    return undefined;
  })();
  return reason && `${show(subject)} is not a subject GitHub issues: ${reason}. ${GITHUB_SUBJECT_FORMS}`;
}
