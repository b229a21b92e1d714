/** The subjects GitHub Actions issues, and the shorthand that spells them. */
import { describe, expect, it } from "vitest";
import { githubSubject } from "./federated";
import { githubSubjectProblem } from "./github-subject";

describe("subjects GitHub Actions issues", () => {
  it.each([
    "repo:contoso/erp-sync:environment:prod",
    "repo:contoso/erp-sync:ref:refs/heads/main",
    "repo:contoso/erp-sync:ref:refs/tags/v1.2.0",
    "repo:contoso/erp-sync:pull_request",
    "repo:contoso/erp.sync_2:environment:eu%3Awest",
    // Repositories created from mid-2026 on carry immutable IDs.
    "repo:contoso@1234/erp-sync@5678:environment:prod",
    // Custom subject templates (include_claim_keys).
    "repository_owner_id:1234:environment:prod",
    "repo:contoso/erp-sync:environment:prod:job_workflow_ref:contoso/shared/.github/workflows/deploy.yml@refs/heads/main",
  ])("accepts %s", (subject) => {
    expect(githubSubjectProblem(subject)).toBeUndefined();
  });

  it.each([
    ["contoso/erp-sync:environment:prod", /start with a claim/],
    ["repo:contoso/erp-sync:*", /wildcards/],
    ["repo:contoso/*:pull_request", /wildcards/],
    ["repo:contoso/erp-sync:environment:", /environment has no value/],
    ["repo:contoso/erp-sync:ref:main", /full ref/],
    ["repo:contoso/erp-sync:branch:main", /"branch" is not a claim/],
    ["repo:contoso/erp-sync :pull_request", /white space/],
    ["", /start with a claim/],
  ])("refuses %s", (subject, reason) => {
    expect(githubSubjectProblem(subject)).toMatch(reason);
  });

  it("expands the shorthand to the default template", () => {
    expect(githubSubject({ repository: "contoso/erp-sync", environment: "prod" })).toBe(
      "repo:contoso/erp-sync:environment:prod",
    );
    expect(githubSubject({ repository: "contoso/erp-sync", ref: "refs/tags/v1" })).toBe(
      "repo:contoso/erp-sync:ref:refs/tags/v1",
    );
    expect(githubSubject({ repository: "contoso/erp-sync", pullRequest: true })).toBe(
      "repo:contoso/erp-sync:pull_request",
    );
  });
});
