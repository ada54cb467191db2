/**
 * The README's "Add your own tool", done exactly as it says, on a copy of the project: its
 * snippets written and added where they say (the new files whole, the lines to add at the end
 * of the lists they name), then the copy type-checked, synthesized with the checks `cdk synth`
 * runs, and served by `npm run dev`. The new tool answers a token of the new role minted by
 * `npm run token`, and no other role; when it fails, local mode says why.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DeleteTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySnippet, sectionOf, snippetsOf } from '../../support/doc-snippets';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const STEPS = snippetsOf(sectionOf(README, 'add-your-own-tool'));

/** The project's files as a clone would have them (tracked, or new and not ignored). */
async function projectFiles(): Promise<string[]> {
  const { stdout } = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(ROOT, file)))
    .filter((file) => lstatSync(join(ROOT, file)).isFile());
}

let copy = '';

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), 'mcp-readme-copy-'));
  for (const file of await projectFiles()) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(copy, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  // The README's steps, in order.
  for (const step of STEPS) {
    const target = join(copy, step.path);
    const existing = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, applySnippet(existing, step));
  }
}, 60_000);

afterAll(() => {
  if (copy !== '') rmSync(copy, { recursive: true, force: true });
});

describe('the README steps, on a copy of the project', () => {
  it('write two new files and add to three', () => {
    expect(STEPS.map((step) => step.path)).toEqual([
      'modules/orders/module.ts',
      'modules/orders/infra.ts',
      'modules/index.ts',
      'modules/infra.ts',
      'modules/roles.ts',
    ]);
    expect(readFileSync(join(copy, 'modules/roles.ts'), 'utf8')).toContain(
      "  clerk: ['read_orders'],\n} as const",
    );
  });

  it('leave a project that type-checks', async () => {
    // Act
    const checked = run(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', copy],
      { cwd: copy, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );

    // Assess
    expect(await checked).toBe('');
  }, 180_000);

  it('synthesize with the checks cdk synth runs: the table, exactly its grant, the group and the scope', async () => {
    // Prepare: the app as `cdk synth` runs it (cdk.json's context), without bundling.
    const outdir = join(copy, 'synth.out');
    const context = (
      JSON.parse(readFileSync(join(copy, 'cdk.json'), 'utf8')) as {
        context: Record<string, unknown>;
      }
    ).context;

    // Act: cdk-nag and cfn-guard fail the synth on any finding.
    await run(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: copy,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...context, 'aws:cdk:bundling-stacks': [] }),
      },
    });

    // Assess
    const file = readdirSync(outdir).find((name) => name.endsWith('.template.json')) as string;
    const template = Template.fromJSON(JSON.parse(readFileSync(join(outdir, file), 'utf8')));
    const table = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable')).find((id) =>
      id.startsWith('OrdersTable'),
    );
    expect(table).toBeDefined();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'dynamodb:GetItem',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [table, 'Arn'] },
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ORDERS_TABLE_NAME: { Ref: table } }) },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'clerk' });
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Scopes: Match.arrayWith([Match.objectLike({ ScopeName: 'read_orders' })]),
    });
  }, 120_000);

  describe('served by npm run dev', () => {
    let dev: ChildProcess | undefined;
    let url = '';
    const terminal: string[] = [];

    beforeAll(async () => {
      // Its own process group, so that stopping it stops what it started.
      dev = spawn('npm', ['run', 'dev'], {
        cwd: copy,
        env: { ...process.env, PORT: '0' },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      dev.stdout?.on('data', (chunk: Buffer) => terminal.push(chunk.toString('utf8')));
      url = await new Promise<string>((resolve, reject) => {
        let banner = '';
        dev?.stderr?.on('data', (chunk: Buffer) => {
          banner += chunk.toString('utf8');
          const listening = /listening on (\S+)/.exec(banner);
          if (listening?.[1] !== undefined) resolve(listening[1]);
        });
        dev?.once('exit', (code) => reject(new Error(`npm run dev exited (${code}):\n${banner}`)));
      });
    }, 180_000);

    afterAll(async () => {
      const pid = dev?.pid;
      if (pid === undefined || dev?.exitCode !== null) return;
      const exited = new Promise((resolve) => dev?.once('exit', resolve));
      process.kill(-pid, 'SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (dev?.exitCode === null) process.kill(-pid, 'SIGKILL');
    }, 20_000);

    /** A client holding a token `npm run token` minted for `groups`, as the README has it. */
    async function clientFor(groups: string): Promise<Client> {
      const { stdout } = await run(
        'npm',
        ['run', '--silent', 'token', '--', '--sub', 'sam', '--groups', groups],
        { cwd: copy },
      );
      const client = new Client({ name: 'readme-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { Authorization: `Bearer ${stdout.trim()}` } },
        }),
      );
      return client;
    }

    it('lists get_order to a clerk and answers it from the seeded table', async () => {
      // Prepare
      const client = await clientFor('clerk');
      try {
        // Act
        const tools = await client.listTools();
        const result = await client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } });

        // Assess
        expect(tools.tools.map((tool) => tool.name)).toEqual(['get_order']);
        expect(result.structuredContent).toEqual({ found: true, status: 'shipped' });
      } finally {
        await client.close();
      }
    });

    it('neither lists nor runs it for a role without read_orders', async () => {
      // Prepare
      const client = await clientFor('admin');
      try {
        // Act
        const tools = await client.listTools();
        const call = client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } });

        // Assess
        expect(tools.tools.map((tool) => tool.name)).not.toContain('get_order');
        await expect(call).rejects.toMatchObject({ code: -32003 });
        await expect(call).rejects.toThrow(/read_orders/);
      } finally {
        await client.close();
      }
    });

    it('says why the tool failed, to the caller and in the terminal, when its table is gone', async () => {
      // Prepare: the newcomer's failure, a table the tool cannot read.
      const { endpoint } = JSON.parse(
        readFileSync(join(copy, '.local/local-dynamo.json'), 'utf8'),
      ) as { endpoint: string };
      const db = new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const { TableNames = [] } = await db.send(new ListTablesCommand({}));
      const orders = TableNames.find((name) => name.includes('OrdersTable'));
      await db.send(new DeleteTableCommand({ TableName: orders }));
      db.destroy();
      const client = await clientFor('clerk');
      try {
        // Act
        const result = await client.callTool({ name: 'get_order', arguments: { id: 'ord-1' } });

        // Assess
        expect(result.isError).toBe(true);
        const [block] = result.content as { type: string; text: string }[];
        expect(block?.text).toMatch(
          /^The tool get_order failed: ResourceNotFoundException \[AWS, HTTP 400\]: .+\. Request id: \S+ \(local mode/,
        );
        const lines = terminal.join('').split('\n');
        expect(lines.some((line) => line.includes('The tool get_order failed (local mode'))).toBe(
          true,
        );
        expect(
          lines.some(
            (line) =>
              line.includes('"event":"mcp.tool_call"') &&
              line.includes('"error_type":"ResourceNotFoundException"'),
          ),
        ).toBe(true);
      } finally {
        await client.close();
      }
    });
  });
});
