/**
 * The conformance fixture: the tools, resources and prompts `@modelcontextprotocol/conformance`
 * (0.2.0-alpha.12) looks for by name, written as a team writes any module (`moduleKit`, one
 * permission) and served through the same core, gate and audit as the deployment's. Only
 * `npm run conformance` serves it: it is never in `modules/index.ts`, so never deployed.
 *
 * Names, arguments and answers follow the suite's scenarios (`src/scenarios/server/*.ts` of
 * modelcontextprotocol/conformance) and the SDK's reference fixture they are written against
 * (`test/conformance/src/everythingServer.ts` of modelcontextprotocol/typescript-sdk).
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import {
  acceptedContent,
  type InputNeeded,
  inputRequired,
  moduleKit,
  type ToolContent,
} from '#module-kit';

/** The one permission of every fixture item; `CONFORMANCE_ROLES` grants it. */
export const CONFORMANCE_PERMISSION = 'conformance';
/** The role the suite's credential carries. */
export const CONFORMANCE_ROLES = { 'conformance-suite': [CONFORMANCE_PERMISSION] } as const;

/** A 1×1 red PNG. */
export const TEST_IMAGE_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
/** A minimal WAV file. */
export const TEST_AUDIO_BASE64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const define = moduleKit<undefined>();
const permission = CONFORMANCE_PERMISSION;
const noInput = z.object({});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A content tool without arguments answering with fixed content. */
const fixed = (name: string, description: string, content: () => ToolContent['content']) =>
  define.contentTool({
    name,
    title: name,
    description,
    permission,
    input: noInput,
    run: async () => ({ content: content() }),
  });

// ---- tools: content of every kind (tools-call-*) ----

const simpleText = fixed('test_simple_text', 'Tests simple text content response', () => [
  { type: 'text', text: 'This is a simple text response for testing.' },
]);

const imageContent = fixed('test_image_content', 'Tests image content response', () => [
  { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' },
]);

const audioContent = fixed('test_audio_content', 'Tests audio content response', () => [
  { type: 'audio', data: TEST_AUDIO_BASE64, mimeType: 'audio/wav' },
]);

const embeddedResource = fixed(
  'test_embedded_resource',
  'Tests embedded resource content response',
  () => [
    {
      type: 'resource',
      resource: {
        uri: 'test://embedded-resource',
        mimeType: 'text/plain',
        text: 'This is an embedded resource content.',
      },
    },
  ],
);

const multipleContentTypes = fixed(
  'test_multiple_content_types',
  'Tests response with multiple content types (text, image, resource)',
  () => [
    { type: 'text', text: 'Multiple content types test:' },
    { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' },
    {
      type: 'resource',
      resource: {
        uri: 'test://mixed-content-resource',
        mimeType: 'application/json',
        text: JSON.stringify({ test: 'data', value: 123 }),
      },
    },
  ],
);

/** tools-call-error: a failure the model should see, as an `isError` result. */
const errorHandling = define.contentTool({
  name: 'test_error_handling',
  title: 'test_error_handling',
  description: 'Tests error response handling',
  permission,
  input: noInput,
  run: async () => ({
    isError: true,
    content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
  }),
});

/** tools-call-with-progress: 0, 50, 100 of 100, about 50 ms apart. */
const withProgress = define.contentTool({
  name: 'test_tool_with_progress',
  title: 'test_tool_with_progress',
  description: 'Tests tool that reports progress notifications',
  permission,
  input: noInput,
  async run(_input, { progress }) {
    for (const step of [0, 50, 100]) {
      await progress({ progress: step, total: 100, message: `Completed step ${step} of 100` });
      if (step < 100) await sleep(50);
    }
    return { content: [{ type: 'text', text: 'Progress reported: 0, 50, 100 of 100' }] };
  },
});

/** tools-call-with-logging (2025-11-25): three info messages, about 50 ms apart. */
const withLogging = define.contentTool({
  name: 'test_tool_with_logging',
  title: 'test_tool_with_logging',
  description: 'Tests tool that emits log messages during execution',
  permission,
  input: noInput,
  async run(_input, { log }) {
    await log('info', 'Tool execution started');
    await sleep(50);
    await log('info', 'Tool processing data');
    await sleep(50);
    await log('info', 'Tool execution completed');
    return { content: [{ type: 'text', text: 'Tool with logging executed successfully' }] };
  },
});

// ---- tools: server-stateless (2026-07-28) diagnostics ----

/** Needs sampling, which the scenario's client does not declare: the SDK answers -32021. */
const missingCapability = define.contentTool({
  name: 'test_missing_capability',
  title: 'test_missing_capability',
  description: 'Requires the sampling client capability (drives the -32021 rejection)',
  permission,
  input: noInput,
  async ask(_input, { inputResponses }) {
    if (inputResponses?.llm_answer !== undefined) return undefined;
    return {
      inputRequests: {
        llm_answer: inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Reply with: pong' } }],
          maxTokens: 16,
        }),
      },
    };
  },
  run: async () => ({ content: [{ type: 'text', text: 'sampling round-trip complete' }] }),
});

/** Its answer stream must carry no request of the server's own. */
const streamingElicitation = fixed(
  'test_streaming_elicitation',
  'Answers on a stream carrying no independent JSON-RPC requests',
  () => [{ type: 'text', text: 'stream observed: result frames only, no top-level requests' }],
);

/** Logs; the scenario sets no `_meta` log level, so nothing may be sent. */
const loggingTool = define.contentTool({
  name: 'test_logging_tool',
  title: 'test_logging_tool',
  description: 'Logs through the request-scoped, logLevel-gated channel',
  permission,
  input: noInput,
  async run(_input, { log }) {
    await log('info', 'test_logging_tool ran (sent only when the request asked for a log level)');
    return { content: [{ type: 'text', text: 'logged through the logLevel-gated channel' }] };
  },
});

/**
 * http-custom-header-server-validation (2026-07-28, not scored: pending upstream): a parameter
 * mirrored in an `Mcp-Param-Region` header, which the SDK checks against the body.
 */
const xMcpHeader = define.contentTool({
  name: 'test_x_mcp_header',
  title: 'test_x_mcp_header',
  description: 'Mirrors its region argument in the Mcp-Param-Region header',
  permission,
  input: z.object({
    region: z.string().optional().meta({ 'x-mcp-header': 'Region' }),
    level: z.number().int().optional(),
  }),
  run: async ({ region }) => ({
    content: [{ type: 'text', text: `region=${region ?? '<none>'}` }],
  }),
});

// ---- tools: multi-round input (input-required-result-*, 2026-07-28) ----

const nameSchema = z.object({ name: z.string() });
const askName = () =>
  inputRequired.elicit({
    message: 'What is your name?',
    requestedSchema: {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
    },
  });
const confirmSchema = z.object({ ok: z.boolean() });
const askConfirmation = () =>
  inputRequired.elicit({
    message: 'Please confirm',
    requestedSchema: {
      type: 'object',
      properties: { ok: { type: 'boolean' } },
      required: ['ok'],
    },
  });
const samplingAnswer = z.object({ content: z.object({ text: z.string() }) });
const rootsAnswer = z.object({ roots: z.array(z.object({ uri: z.string() })) });

/** Asks the caller's name; anything but an accepted name is asked again. */
const mrtrElicitation = define.contentTool({
  name: 'test_input_required_result_elicitation',
  title: 'test_input_required_result_elicitation',
  description: 'Asks for the caller name through an in-band elicitation request',
  permission,
  input: noInput,
  async ask(_input, { inputResponses }) {
    if (acceptedContent(inputResponses, 'user_name', nameSchema) !== undefined) return undefined;
    return { inputRequests: { user_name: askName() } };
  },
  async run(_input, { inputResponses }) {
    const answer = acceptedContent(inputResponses, 'user_name', nameSchema);
    return { content: [{ type: 'text', text: `Hello, ${answer?.name}!` }] };
  },
});

const mrtrSampling = define.contentTool({
  name: 'test_input_required_result_sampling',
  title: 'test_input_required_result_sampling',
  description: 'Asks for an LLM completion through an in-band sampling request',
  permission,
  input: noInput,
  async ask(_input, { inputResponses }) {
    if (samplingAnswer.safeParse(inputResponses?.capital_question).success) return undefined;
    return {
      inputRequests: {
        capital_question: inputRequired.createMessage({
          messages: [
            { role: 'user', content: { type: 'text', text: 'What is the capital of France?' } },
          ],
          maxTokens: 100,
        }),
      },
    };
  },
  async run(_input, { inputResponses }) {
    const answer = samplingAnswer.parse(inputResponses?.capital_question);
    return { content: [{ type: 'text', text: `Sampling response: ${answer.content.text}` }] };
  },
});

const mrtrListRoots = define.contentTool({
  name: 'test_input_required_result_list_roots',
  title: 'test_input_required_result_list_roots',
  description: 'Asks for the client roots through an in-band roots/list request',
  permission,
  input: noInput,
  async ask(_input, { inputResponses }) {
    if (rootsAnswer.safeParse(inputResponses?.client_roots).success) return undefined;
    return { inputRequests: { client_roots: inputRequired.listRoots() } };
  },
  async run(_input, { inputResponses }) {
    const { roots } = rootsAnswer.parse(inputResponses?.client_roots);
    const uris = roots.map((root) => root.uri).join(', ');
    return {
      content: [{ type: 'text', text: `Client exposed ${roots.length} root(s): ${uris}` }],
    };
  },
});

/** Seals state in the first round and completes only with it back, verified. */
const mrtrRequestState = define.contentTool({
  name: 'test_input_required_result_request_state',
  title: 'test_input_required_result_request_state',
  description: 'Round-trips integrity-protected requestState alongside an elicitation',
  permission,
  input: noInput,
  async ask(_input, { inputResponses, requestState, sealState }) {
    const confirmed = acceptedContent(inputResponses, 'confirm', confirmSchema);
    if (confirmed !== undefined && requestState() !== undefined) return undefined;
    return {
      inputRequests: { confirm: askConfirmation() },
      requestState: await sealState({ step: 'confirm', nonce: randomUUID() }),
    };
  },
  run: async () => ({
    content: [{ type: 'text', text: 'state-ok: requestState verified and confirmation received' }],
  }),
});

const mrtrMultipleInputs = define.contentTool({
  name: 'test_input_required_result_multiple_inputs',
  title: 'test_input_required_result_multiple_inputs',
  description: 'Asks for elicitation, sampling and roots input in a single round',
  permission,
  input: noInput,
  async ask(_input, { inputResponses, requestState, sealState }) {
    const complete =
      acceptedContent(inputResponses, 'user_name', nameSchema) !== undefined &&
      samplingAnswer.safeParse(inputResponses?.greeting).success &&
      rootsAnswer.safeParse(inputResponses?.client_roots).success &&
      requestState() !== undefined;
    if (complete) return undefined;
    return {
      inputRequests: {
        user_name: askName(),
        greeting: inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
          maxTokens: 50,
        }),
        client_roots: inputRequired.listRoots(),
      },
      requestState: await sealState({ step: 'all-inputs', nonce: randomUUID() }),
    };
  },
  async run(_input, { inputResponses }) {
    const name = acceptedContent(inputResponses, 'user_name', nameSchema)?.name;
    const greeting = samplingAnswer.parse(inputResponses?.greeting).content.text;
    const { roots } = rootsAnswer.parse(inputResponses?.client_roots);
    return {
      content: [{ type: 'text', text: `${greeting} ${name} — ${roots.length} root(s) visible` }],
    };
  },
});

const roundState = z.object({ round: z.number().int(), name: z.string().optional() });

/** Two rounds of questions, the round (and the first answer) carried in sealed state. */
const mrtrMultiRound = define.contentTool({
  name: 'test_input_required_result_multi_round',
  title: 'test_input_required_result_multi_round',
  description: 'Two elicitation rounds with evolving requestState before completing',
  permission,
  input: noInput,
  async ask(_input, { inputResponses, requestState, sealState }): Promise<InputNeeded | undefined> {
    const state = roundState.safeParse(requestState());
    const round = state.success ? state.data.round : 0;
    if (round === 0) {
      return {
        inputRequests: {
          step1: inputRequired.elicit({
            message: 'Step 1: What is your name?',
            requestedSchema: {
              type: 'object',
              properties: { name: { type: 'string' } },
              required: ['name'],
            },
          }),
        },
        requestState: await sealState({ round: 1, nonce: randomUUID() }),
      };
    }
    if (round === 1) {
      const name = acceptedContent(inputResponses, 'step1', nameSchema)?.name ?? 'unknown';
      return {
        inputRequests: {
          step2: inputRequired.elicit({
            message: 'Step 2: What is your favorite color?',
            requestedSchema: {
              type: 'object',
              properties: { color: { type: 'string' } },
              required: ['color'],
            },
          }),
        },
        requestState: await sealState({ round: 2, name, nonce: randomUUID() }),
      };
    }
    return undefined;
  },
  async run(_input, { inputResponses, requestState }) {
    const state = roundState.safeParse(requestState());
    const color =
      acceptedContent(inputResponses, 'step2', z.object({ color: z.string() }))?.color ?? 'unknown';
    const name = state.success ? (state.data.name ?? 'unknown') : 'unknown';
    return { content: [{ type: 'text', text: `Multi-round complete: ${name} likes ${color}` }] };
  },
});

/** Its state is sealed; a tampered one is refused (-32602) before this code runs. */
const mrtrTamperedState = define.contentTool({
  name: 'test_input_required_result_tampered_state',
  title: 'test_input_required_result_tampered_state',
  description: 'Rejects retries whose requestState fails integrity verification',
  permission,
  input: noInput,
  async ask(_input, { inputResponses, requestState, sealState }) {
    const confirmed = acceptedContent(inputResponses, 'confirm', confirmSchema);
    if (confirmed !== undefined && requestState() !== undefined) return undefined;
    return {
      inputRequests: { confirm: askConfirmation() },
      requestState: await sealState({ step: 'tamper-check', nonce: randomUUID() }),
    };
  },
  run: async () => ({ content: [{ type: 'text', text: 'integrity-ok: requestState verified' }] }),
});

/** Asks only for the kinds of input the client declared it can give. */
const mrtrCapabilities = define.contentTool({
  name: 'test_input_required_result_capabilities',
  title: 'test_input_required_result_capabilities',
  description: 'Only requests input kinds the declared client capabilities cover',
  permission,
  input: noInput,
  async ask(_input, { inputResponses, clientCapabilities }) {
    if (inputResponses !== undefined) return undefined;
    const inputRequests: Record<string, ReturnType<typeof askName>> = {};
    if (clientCapabilities?.elicitation !== undefined) inputRequests.user_name = askName();
    if (clientCapabilities?.sampling !== undefined) {
      inputRequests.greeting = inputRequired.createMessage({
        messages: [{ role: 'user', content: { type: 'text', text: 'Generate a short greeting' } }],
        maxTokens: 50,
      });
    }
    if (clientCapabilities?.roots !== undefined) {
      inputRequests.client_roots = inputRequired.listRoots();
    }
    return Object.keys(inputRequests).length === 0 ? undefined : { inputRequests };
  },
  async run(_input, { inputResponses }) {
    return {
      content: [
        {
          type: 'text',
          text:
            inputResponses === undefined
              ? 'No declared client capability supports an in-band input request'
              : 'Capability-aware input requests fulfilled',
        },
      ],
    };
  },
});

// ---- tools: push-style (2025-11-25 tools-call-sampling, -elicitation, elicitation-sep*) ----
//
// Written the 2026-07-28 way, as any team's tool here would be: they ask through `ask`. A
// 2025-11-25 client expects the server to send it a request mid-call, which a stateless
// server cannot receive the answer to; the server tells it so at once.

const samplingTool = define.contentTool({
  name: 'test_sampling',
  title: 'test_sampling',
  description: 'Requests an LLM completion from the client',
  permission,
  input: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
  async ask({ prompt }, { inputResponses }) {
    if (samplingAnswer.safeParse(inputResponses?.completion).success) return undefined;
    return {
      inputRequests: {
        completion: inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
          maxTokens: 100,
        }),
      },
    };
  },
  async run(_input, { inputResponses }) {
    const answer = samplingAnswer.parse(inputResponses?.completion);
    return { content: [{ type: 'text', text: `LLM response: ${answer.content.text}` }] };
  },
});

/** An elicitation tool: asks with `schema`, answers with what came back. */
const eliciting = (
  name: string,
  description: string,
  input: z.ZodObject,
  question: (input: Record<string, unknown>) => Parameters<typeof inputRequired.elicit>[0],
) =>
  define.contentTool({
    name,
    title: name,
    description,
    permission,
    input,
    async ask(args, { inputResponses }) {
      if (acceptedContent(inputResponses, 'answer') !== undefined) return undefined;
      return { inputRequests: { answer: inputRequired.elicit(question(args)) } };
    },
    async run(_input, { inputResponses }) {
      const content = acceptedContent(inputResponses, 'answer');
      return {
        content: [
          { type: 'text', text: `Elicitation completed: content=${JSON.stringify(content)}` },
        ],
      };
    },
  });

const elicitationTool = eliciting(
  'test_elicitation',
  'Requests user input from the client',
  z.object({ message: z.string().describe('The message to show the user') }),
  (args) => ({
    message: String(args.message),
    requestedSchema: {
      type: 'object',
      properties: { response: { type: 'string', description: "User's response" } },
      required: ['response'],
    },
  }),
);

const elicitationDefaults = eliciting(
  'test_elicitation_sep1034_defaults',
  'Tests elicitation with default values per SEP-1034',
  noInput,
  () => ({
    message: 'Please review and update the form fields with defaults',
    requestedSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'User name', default: 'John Doe' },
        age: { type: 'integer', description: 'User age', default: 30 },
        score: { type: 'number', description: 'User score', default: 95.5 },
        status: {
          type: 'string',
          description: 'User status',
          enum: ['active', 'inactive', 'pending'],
          default: 'active',
        },
        verified: { type: 'boolean', description: 'Verification status', default: true },
      },
      required: [],
    },
  }),
);

const elicitationEnums = eliciting(
  'test_elicitation_sep1330_enums',
  'Tests elicitation with enum schema improvements per SEP-1330',
  noInput,
  () => ({
    message: 'Please select options from the enum fields',
    requestedSchema: {
      type: 'object',
      properties: {
        untitledSingle: {
          type: 'string',
          description: 'Select one option',
          enum: ['option1', 'option2', 'option3'],
        },
        titledSingle: {
          type: 'string',
          description: 'Select one option with titles',
          oneOf: [
            { const: 'value1', title: 'First Option' },
            { const: 'value2', title: 'Second Option' },
            { const: 'value3', title: 'Third Option' },
          ],
        },
        legacyEnum: {
          type: 'string',
          description: 'Select one option (legacy)',
          enum: ['opt1', 'opt2', 'opt3'],
          enumNames: ['Option One', 'Option Two', 'Option Three'],
        },
        untitledMulti: {
          type: 'array',
          description: 'Select multiple options',
          minItems: 1,
          maxItems: 3,
          items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
        },
        titledMulti: {
          type: 'array',
          description: 'Select multiple options with titles',
          minItems: 1,
          maxItems: 3,
          items: {
            anyOf: [
              { const: 'value1', title: 'First Choice' },
              { const: 'value2', title: 'Second Choice' },
              { const: 'value3', title: 'Third Choice' },
            ],
          },
        },
      },
      required: [],
    },
  }),
);

// ---- resources (resources-*) ----

const staticText = define.resource({
  name: 'static-text',
  uri: 'test://static-text',
  title: 'Static Text Resource',
  description: 'A static text resource for testing',
  mimeType: 'text/plain',
  permission,
  read: async () => ({
    mimeType: 'text/plain',
    text: 'This is the content of the static text resource.',
  }),
});

const staticBinary = define.resource({
  name: 'static-binary',
  uri: 'test://static-binary',
  title: 'Static Binary Resource',
  description: 'A static binary resource (image) for testing',
  mimeType: 'image/png',
  permission,
  read: async () => ({ mimeType: 'image/png', blob: TEST_IMAGE_BASE64 }),
});

/** resources-subscribe / -unsubscribe (2025-11-25): it never changes, so no update is owed. */
const watched = define.resource({
  name: 'watched-resource',
  uri: 'test://watched-resource',
  title: 'Watched Resource',
  description: 'A static resource for subscribe and unsubscribe testing',
  mimeType: 'text/plain',
  permission,
  subscribable: true,
  read: async () => ({ mimeType: 'text/plain', text: 'Watched resource content' }),
});

const template = define.resourceTemplate({
  name: 'template',
  uriTemplate: 'test://template/{id}/data',
  title: 'Resource Template',
  description: 'A resource template with parameter substitution',
  mimeType: 'application/json',
  permission,
  read: async (_uri, variables) => {
    const id = String(variables.id);
    return {
      mimeType: 'application/json',
      text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
    };
  },
});

// ---- prompts (prompts-*, input-required-result-non-tool-request) ----

const simplePrompt = define.prompt({
  name: 'test_simple_prompt',
  title: 'Simple Test Prompt',
  description: 'A simple prompt without arguments',
  permission,
  args: z.object({}),
  get: async () => ({
    messages: [
      { role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } },
    ],
  }),
});

const promptWithArguments = define.prompt({
  name: 'test_prompt_with_arguments',
  title: 'Prompt With Arguments',
  description: 'A prompt with required arguments',
  permission,
  args: z.object({
    arg1: z.string().describe('First test argument'),
    arg2: z.string().describe('Second test argument'),
  }),
  // completion-complete asks for arg1.
  complete: {
    arg1: async (value) => ['test-value-1', 'test-value-2'].filter((v) => v.startsWith(value)),
  },
  get: async ({ arg1, arg2 }) => ({
    messages: [
      {
        role: 'user',
        content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
      },
    ],
  }),
});

const promptWithEmbeddedResource = define.prompt({
  name: 'test_prompt_with_embedded_resource',
  title: 'Prompt With Embedded Resource',
  description: 'A prompt that includes an embedded resource',
  permission,
  args: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
  get: async ({ resourceUri }) => ({
    messages: [
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: {
            uri: resourceUri,
            mimeType: 'text/plain',
            text: 'Embedded resource content for testing.',
          },
        },
      },
      {
        role: 'user',
        content: { type: 'text', text: 'Please process the embedded resource above.' },
      },
    ],
  }),
});

const promptWithImage = define.prompt({
  name: 'test_prompt_with_image',
  title: 'Prompt With Image',
  description: 'A prompt that includes image content',
  permission,
  args: z.object({}),
  get: async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }),
});

const contextSchema = z.object({ context: z.string() });

/** A prompt that asks for input before it renders (2026-07-28). */
const mrtrPrompt = define.prompt({
  name: 'test_input_required_result_prompt',
  title: 'MRTR Prompt',
  description: 'A prompt that requires elicitation input before rendering',
  permission,
  args: z.object({}),
  async ask(_args, { inputResponses }) {
    if (acceptedContent(inputResponses, 'user_context', contextSchema) !== undefined) {
      return undefined;
    }
    return {
      inputRequests: {
        user_context: inputRequired.elicit({
          message: 'What context should the prompt use?',
          requestedSchema: {
            type: 'object',
            properties: { context: { type: 'string' } },
            required: ['context'],
          },
        }),
      },
    };
  },
  async get(_args, { inputResponses }) {
    const answer = acceptedContent(inputResponses, 'user_context', contextSchema);
    return {
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Use the following context: ${answer?.context}` },
        },
      ],
    };
  },
});

export const conformanceFixture = define.module({
  name: 'conformance-fixture',
  permissions: {
    [CONFORMANCE_PERMISSION]: 'Use the conformance suite fixtures (never deployed)',
  },
  instructions: 'Conformance fixtures for @modelcontextprotocol/conformance. Never deployed.',
  // The suite drives these tools as a client would, with no person to approve anything, and
  // none of them destroys anything: unannotated, they would each need a person's approval
  // (MCP's annotation defaults), and those that ask for input could not start at all.
  tools: [
    simpleText,
    imageContent,
    audioContent,
    embeddedResource,
    multipleContentTypes,
    errorHandling,
    withProgress,
    withLogging,
    missingCapability,
    streamingElicitation,
    loggingTool,
    xMcpHeader,
    mrtrElicitation,
    mrtrSampling,
    mrtrListRoots,
    mrtrRequestState,
    mrtrMultipleInputs,
    mrtrMultiRound,
    mrtrTamperedState,
    mrtrCapabilities,
    samplingTool,
    elicitationTool,
    elicitationDefaults,
    elicitationEnums,
  ].map((tool) => ({ ...tool, approval: false })),
  resources: [staticText, staticBinary, watched],
  resourceTemplates: [template],
  prompts: [
    simplePrompt,
    promptWithArguments,
    promptWithEmbeddedResource,
    promptWithImage,
    mrtrPrompt,
  ],
  dependencies: () => undefined,
});
