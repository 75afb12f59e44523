import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/**
 * The ID of CloudFront's origin-facing managed prefix list in this region, looked up at deploy
 * time (the ID differs per region; a lookup at synthesis would need AWS credentials).
 */
export class CloudFrontPrefixList extends Construct {
  readonly prefixListId: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const call: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: {
        Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.global.cloudfront.origin-facing'] }],
      },
      physicalResourceId: cr.PhysicalResourceId.of('cloudfront-origin-facing'),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    const lookup = new cr.AwsCustomResource(this, 'Lookup', {
      onCreate: call,
      onUpdate: call,
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    this.prefixListId = lookup.getResponseField('PrefixLists.0.PrefixListId');
  }
}
