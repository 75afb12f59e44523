import { CfnJson } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * An IAM role that exactly one Kubernetes service account may assume (IAM Roles for Service
 * Accounts): the cluster's OIDC issuer must vouch for system:serviceaccount:NAMESPACE:NAME.
 * The service account itself is created by the Helm chart that uses it, annotated with the
 * role's ARN.
 */
export function serviceAccountRole(
  scope: Construct,
  id: string,
  cluster: eks.Cluster,
  namespace: string,
  serviceAccount: string,
  description: string,
): iam.Role {
  const issuer = cluster.clusterOpenIdConnectIssuer;
  const conditions = new CfnJson(scope, `${id}Conditions`, {
    value: {
      [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
      [`${issuer}:aud`]: 'sts.amazonaws.com',
    },
  });
  return new iam.Role(scope, id, {
    description,
    assumedBy: new iam.OpenIdConnectPrincipal(cluster.openIdConnectProvider, {
      StringEquals: conditions,
    }),
  });
}
