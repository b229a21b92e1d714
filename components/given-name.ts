import * as pulumi from "@pulumi/pulumi";

/**
 * `name`, the name a resource was created with, once `resource` exists: known without relying on the
 * provider's computed `name` output (Azure echoes it back unchanged), and carrying the dependency on
 * the resource to whatever takes it as an input.
 */
export function givenName(
  resource: pulumi.CustomResource,
  name: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.all([resource.id, name]).apply(([, n]) => n);
}
