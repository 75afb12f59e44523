#!/usr/bin/env node
// Synthesises the CloudFormation templates without the CDK CLI: node dist/bin/app.js [OUTDIR].
// Under the CDK CLI (cdk synth/deploy), the CLI's own output directory is used.
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

const outdir = process.env.CDK_OUTDIR ?? process.argv[2] ?? 'cdk.out';
const { app } = buildApp(new App({ outdir }));
app.synth();
