import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * The service's image repository: tags are immutable (a release is one tag, never moved),
 * images are scanned on push, untagged layers expire. The nodes pull from it.
 */
export class Registry extends Construct {
  readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, pullers: iam.IGrantable[]) {
    super(scope, id);
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: 'ticketing',
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ description: 'untagged layers', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(14) }],
    });
    for (const p of pullers) this.repository.grantPull(p);
  }
}
