import { Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

/** Public catalogue reads that CloudFront may keep for a few seconds. */
export const CATALOGUE_PATHS = ['/v1/events*', '/v1/rankings*', '/v1/venues/*'] as const;
/** Waiting-room calls: join, leave and the status poll. Never cached. */
export const QUEUE_PATH = '/v1/performances/*/queue*';
/** Content-hashed files of the web app. */
export const ASSET_PATH = '/assets/*';

export interface CdnProps {
  readonly domainName: string;
  readonly originDomainName: string;
  readonly certificate: acm.ICertificate;
  readonly webAclArn: string;
  readonly zone?: route53.IHostedZone;
}

/**
 * CloudFront in front of the load balancer, with the edge WAF. Everything goes to the ALB over
 * HTTPS; only the public catalogue (seconds, as the service's Cache-Control allows) and the
 * web app's hashed assets are cached. The API, the waiting room and everything else are not
 * cached, and reach the origin with every header (but Host), cookie and query string.
 */
export class Cdn extends Construct {
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: CdnProps) {
    super(scope, id);
    const origin = new origins.HttpOrigin(props.originDomainName, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      readTimeout: Duration.seconds(30),
      keepaliveTimeout: Duration.seconds(60),
    });

    // The service sends Cache-Control: public, max-age=5 on the catalogue (and immutable on
    // layouts); CloudFront follows it, never past a day. The query string is part of the key
    // (?q= search); no cookies or credentials are: the catalogue is the same for everyone.
    const cataloguePolicy = new cloudfront.CachePolicy(this, 'Catalogue', {
      comment: 'ticketing public catalogue: as the origin says, briefly',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(5),
      maxTtl: Duration.days(1),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const api: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      compress: true,
    };
    const catalogue: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachePolicy: cataloguePolicy,
      compress: true,
    };
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {
      [QUEUE_PATH]: api,
      [ASSET_PATH]: { ...catalogue, cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED },
    };
    for (const p of CATALOGUE_PATHS) additionalBehaviors[p] = catalogue;

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'ticketing',
      domainNames: [props.domainName],
      certificate: props.certificate,
      webAclId: props.webAclArn,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_200,
      defaultBehavior: api,
      additionalBehaviors,
      // Errors are the origin's answer of the moment (503 + Retry-After during a failover):
      // never serve one from the cache.
      errorResponses: [500, 502, 503, 504].map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
    });

    if (props.zone) {
      new route53.ARecord(this, 'Alias', {
        zone: props.zone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution)),
      });
    }
  }
}
