import { Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { Cache } from './cache';
import { NAMES, PORTS } from './config';
import { Database } from './database';
import { Messaging } from './messaging';
import { SecretComposer } from './secret-composer';
import { AppSecrets } from './secrets';

export interface ClusterSecretsProps {
  readonly secrets: AppSecrets;
  readonly database: Database;
  readonly cache: Cache;
  readonly messaging: Messaging;
}

/**
 * The secrets External Secrets copies into the cluster, named and shaped as deploy/k8s reads
 * them (JSON, one per concern, connection URLs with their credentials):
 *
 *   ticketing/app       secret, ticket_signing_seed, admin_token
 *   ticketing/postgres  url (primary, read-write), read_url (replica, prefer-standby)
 *   ticketing/redis     url (TLS, AUTH token)
 *   ticketing/rabbitmq  url (AMQPS)
 *   ticketing/smtp      user, password: the SMTP relay's credentials, set by the operator
 */
export class ClusterSecrets extends Construct {
  readonly app: secretsmanager.Secret;
  readonly postgres: secretsmanager.Secret;
  readonly redis: secretsmanager.Secret;
  readonly rabbitmq: secretsmanager.Secret;
  readonly smtp: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ClusterSecretsProps) {
    super(scope, id);
    const { secrets, database, cache, messaging } = props;
    const composer = new SecretComposer(this, 'Composer');
    const name = (n: string) => `${NAMES.secretPrefix}${n}`;

    this.app = composer.compose('App', {
      secretName: name('app'),
      description: 'TICKETING_SECRET, TICKETING_TICKET_SIGNING_SEED, TICKETING_ADMIN_TOKEN (assembled)',
      sources: { key: secrets.tokenSigningKey, seed: secrets.ticketSigningSeed, admin: secrets.adminToken },
      template: { secret: '<<key>>', ticket_signing_seed: '<<seed>>', admin_token: '<<admin>>' },
    });
    const pg = (host: string, attrs: string) =>
      `postgresql://<<url:db.username>>:<<url:db.password>>@${host}:${PORTS.postgres}/ticketing` +
      `?sslmode=require&target_session_attrs=${attrs}&connect_timeout=2`;
    this.postgres = composer.compose('Postgres', {
      secretName: name('postgres'),
      description: 'TICKETING_PG_URL and TICKETING_PG_READ_URL (assembled)',
      sources: { db: database.secret },
      template: {
        url: pg(database.primary.dbInstanceEndpointAddress, 'read-write'),
        read_url: pg(database.replica.dbInstanceEndpointAddress, 'prefer-standby'),
      },
    });
    this.redis = composer.compose('Redis', {
      secretName: name('redis'),
      description: 'TICKETING_REDIS_URL: the ElastiCache primary endpoint over TLS (assembled)',
      sources: { auth: secrets.redisAuth },
      template: { url: `rediss://:<<url:auth>>@${cache.primaryEndpoint}:${PORTS.redis}` },
    });
    // The broker's endpoint reads amqps://HOST:5671.
    const brokerHostPort = Fn.select(1, Fn.split('amqps://', messaging.amqpsEndpoint));
    this.rabbitmq = composer.compose('Rabbitmq', {
      secretName: name('rabbitmq'),
      description: 'TICKETING_AMQP_URL: Amazon MQ over AMQPS (assembled)',
      sources: { mq: secrets.broker },
      template: { url: `amqps://<<url:mq.username>>:<<url:mq.password>>@${brokerHostPort}` },
    });
    this.smtp = new secretsmanager.Secret(this, 'Smtp', {
      secretName: name('smtp'),
      description: 'TICKETING_SMTP_USER, TICKETING_SMTP_PASSWORD: put the relay\'s credentials here',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ user: 'unset' }),
        generateStringKey: 'password',
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Exactly what the cluster may read. */
  get all(): secretsmanager.ISecret[] {
    return [this.app, this.postgres, this.redis, this.rabbitmq, this.smtp];
  }
}
