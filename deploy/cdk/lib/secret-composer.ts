import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/**
 * The handler: reads the source secrets, fills the template and writes the JSON into the target
 * secret. `<<name>>` is a source secret's whole value, `<<name.key>>` one key of a JSON secret;
 * `<<url:...>>` the same, percent-encoded for a URL. Values live only in Secrets Manager and in
 * this function's memory, never in a template, an event or a log.
 */
export const HANDLER = `
const { SecretsManagerClient, GetSecretValueCommand, PutSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
const sm = new SecretsManagerClient({});
exports.handler = async (event) => {
  const p = event.ResourceProperties;
  const id = 'composed:' + p.Target;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: id };
  const values = {};
  for (const [name, arn] of Object.entries(p.Sources)) {
    const v = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    values[name] = v.SecretString;
  }
  const lookup = (ref) => {
    const [name, key] = ref.split('.');
    if (!(name in values)) throw new Error('unknown source ' + name);
    if (key === undefined) return values[name];
    const v = JSON.parse(values[name])[key];
    if (v === undefined) throw new Error('source ' + name + ' has no key ' + key);
    return String(v);
  };
  const fill = (t) => t.replace(/<<(url:)?([A-Za-z0-9_.]+)>>/g, (_, url, ref) =>
    url ? encodeURIComponent(lookup(ref)) : lookup(ref));
  const out = {};
  for (const [k, t] of Object.entries(p.Template)) out[k] = fill(t);
  await sm.send(new PutSecretValueCommand({ SecretId: p.Target, SecretString: JSON.stringify(out) }));
  return { PhysicalResourceId: id };
};
`;

export interface ComposedSecretProps {
  /** Name of the secret written (e.g. ticketing/postgres). */
  readonly secretName: string;
  readonly description: string;
  /** Source secrets by the name the template uses. */
  readonly sources: Record<string, secretsmanager.ISecret>;
  /** Output key -> template, e.g. { url: 'postgresql://<<url:db.username>>:<<url:db.password>>@HOST/db' }. */
  readonly template: Record<string, string>;
}

/**
 * Secrets in the shape the Kubernetes manifests read (one JSON secret per concern, URLs with
 * their credentials), assembled at deploy time from the generated secrets and the endpoints.
 */
export class SecretComposer extends Construct {
  private readonly provider: cr.Provider;
  private readonly fn: lambda.Function;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.fn = new lambda.Function(this, 'Handler', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(HANDLER),
      timeout: Duration.minutes(1),
      description: 'Writes the ticketing secrets the cluster reads, from the generated ones',
      logGroup: new logs.LogGroup(this, 'Logs', {
        retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    this.provider = new cr.Provider(this, 'Provider', { onEventHandler: this.fn });
  }

  compose(id: string, props: ComposedSecretProps): secretsmanager.Secret {
    // Created with a throw-away generated value, replaced by the composer before anyone reads it.
    const target = new secretsmanager.Secret(this, id, {
      secretName: props.secretName,
      description: props.description,
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const s of Object.values(props.sources)) s.grantRead(this.fn);
    this.fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:PutSecretValue'],
      resources: [target.secretArn],
    }));
    const res = new CustomResource(this, `${id}Value`, {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::TicketingComposedSecret',
      properties: {
        Target: target.secretArn,
        Sources: Object.fromEntries(Object.entries(props.sources).map(([k, s]) => [k, s.secretArn])),
        Template: props.template,
      },
    });
    res.node.addDependency(target);
    return target;
  }
}
