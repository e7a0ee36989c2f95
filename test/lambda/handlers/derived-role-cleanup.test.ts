import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  IAMClient,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { IamAdapter } from '../../../lambda/adapters/iam/iam-adapter';
import { sendCfnResponse } from '../../../lambda/adapters/cloudformation/cfn-response';
import { createDerivedRoleCleanup } from '../../../lambda/handlers/derived-role-cleanup';
import { FaultyAwsHandler } from '../../support/faulty-aws-handler';
import { createAccessPolicy } from '../../support/moto-seed';
import { MOTO_CLIENT_CONFIG, startMotoServer } from '../../support/moto-server';
import type { MotoServer } from '../../support/moto-server';

let moto: MotoServer;
let cfn: http.Server;
let responses: { method?: string; contentType?: string; body: Record<string, unknown> }[] = [];
let responseUrl = '';

beforeAll(async () => {
  moto = await startMotoServer();
  cfn = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      responses.push({
        method: req.method,
        contentType: req.headers['content-type'],
        body: JSON.parse(body),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => cfn.listen(0, '127.0.0.1', r));
  responseUrl = `http://127.0.0.1:${(cfn.address() as AddressInfo).port}/presigned?X-Amz-Signature=x`;
});
afterAll(async () => {
  await moto.stop();
  await new Promise((r) => cfn.close(r));
});
beforeEach(async () => {
  await moto.reset();
  responses = [];
});

function event(
  type: 'Create' | 'Update' | 'Delete',
  properties: Record<string, unknown>,
): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:cleanup',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/KubestashIrsa/1',
    RequestId: 'req-1',
    LogicalResourceId: 'DerivedRoleCleanup',
    ResourceType: 'Custom::DerivedRoleCleanup',
    ResourceProperties: { ServiceToken: 'x', ...properties },
  };
  if (type === 'Create')
    return { ...base, RequestType: 'Create' } as CloudFormationCustomResourceEvent;
  if (type === 'Update') {
    return {
      ...base,
      RequestType: 'Update',
      PhysicalResourceId: 'p',
      OldResourceProperties: {},
    } as CloudFormationCustomResourceEvent;
  }
  return {
    ...base,
    RequestType: 'Delete',
    PhysicalResourceId: 'p',
  } as CloudFormationCustomResourceEvent;
}

function trust(subjects: number): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: {
          Federated:
            'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A',
        },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringLike: {
            'oidc.eks.us-east-1.amazonaws.com/id/A:sub': Array.from(
              { length: subjects },
              (_, i) => `system:serviceaccount:demo:backup-${i}`,
            ),
          },
        },
      },
    ],
  });
}

async function setUp(iam: IAMClient) {
  const policyArn = await createAccessPolicy(iam, 'access');
  const create = async (name: string, path: string, subjects: number) => {
    await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        Path: path,
        AssumeRolePolicyDocument: trust(subjects),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn }));
  };
  // Derived roles at several fill levels: empty, partly full, full.
  await create('KubestashRole-0', '/kubestash-irsa/', 20);
  await create('KubestashRole-1', '/kubestash-irsa/', 7);
  await create('KubestashRole-2', '/kubestash-irsa/', 0);
  // Not derived roles: another name under the path, a lookalike name, the same name under another path.
  await create('Someone-0', '/kubestash-irsa/', 1);
  await create('KubestashRole-backup', '/kubestash-irsa/', 1);
  await create('KubestashRole-3', '/other/', 1);
}

async function roleNames(iam: IAMClient): Promise<string[]> {
  return ((await iam.send(new ListRolesCommand({}))).Roles ?? [])
    .map((r) => r.RoleName ?? '')
    .sort();
}

function cleanup(iam: IAMClient) {
  return createDerivedRoleCleanup({
    iam: new IamAdapter(iam),
    logger: new Logger({ logLevel: 'SILENT' }),
    respond: (e, r) => sendCfnResponse(e, r, { sleep: async () => {} }),
  });
}

describe('derived-role cleanup custom resource', () => {
  test('on delete, removes every derived role of the seed (detaching first) and nothing else', async () => {
    const iam = new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    await setUp(iam);
    await cleanup(iam)(
      event('Delete', { Seeds: [{ name: 'KubestashRole', path: '/kubestash-irsa/' }] }),
    );
    expect(await roleNames(iam)).toEqual(['KubestashRole-3', 'KubestashRole-backup', 'Someone-0']);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({
      method: 'PUT',
      contentType: '',
      body: {
        Status: 'SUCCESS',
        PhysicalResourceId: 'p',
        RequestId: 'req-1',
        LogicalResourceId: 'DerivedRoleCleanup',
        Data: { Deleted: '3' },
      },
    });
  });

  test('create and update only answer', async () => {
    const iam = new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    await setUp(iam);
    const props = { Seeds: [{ name: 'KubestashRole', path: '/kubestash-irsa/' }] };
    await cleanup(iam)(event('Create', props));
    await cleanup(iam)(event('Update', props));
    expect((await roleNames(iam)).length).toBe(6);
    expect(responses.map((r) => r.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(responses[0].body.PhysicalResourceId).toBe('derived-role-cleanup-DerivedRoleCleanup');
  });

  test('a role that cannot be deleted fails the deletion with its name and the way out, after deleting the rest', async () => {
    const handler = new FaultyAwsHandler();
    const iam = new IAMClient({
      ...MOTO_CLIENT_CONFIG,
      endpoint: moto.endpoint,
      requestHandler: handler,
      maxAttempts: 1,
    });
    await setUp(iam);
    const original = handler.handle.bind(handler);
    handler.handle = async (request, options) => {
      if (
        typeof request.body === 'string' &&
        request.body.includes('Action=DeleteRole') &&
        request.body.includes('RoleName=KubestashRole-1')
      ) {
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      return original(request, options);
    };
    await cleanup(iam)(
      event('Delete', { Seeds: [{ name: 'KubestashRole', path: '/kubestash-irsa/' }] }),
    );
    expect(await roleNames(iam)).toEqual([
      'KubestashRole-1',
      'KubestashRole-3',
      'KubestashRole-backup',
      'Someone-0',
    ]);
    expect(responses[0].body.Status).toBe('FAILED');
    expect(responses[0].body.Reason).toMatch(
      /could not delete 1 derived role\(s\): KubestashRole-1 .*Delete them by hand, or retry/,
    );
  });

  test('bad properties are refused with the field', async () => {
    const iam = new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
    await cleanup(iam)(event('Delete', { Seeds: [{ name: 'KubestashRole', path: 'no-slash' }] }));
    expect(responses[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/Seeds\.0\.path/),
    });
  });
});
