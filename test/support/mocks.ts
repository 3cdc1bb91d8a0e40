/**
 * Test helper: installs Pulumi's mock runtime (see cli/mock-runtime.ts) and re-exports the recorder API, so a test
 * reads "the registry registered an aws:ecr/repository:Repository with imageTagMutability IMMUTABLE".
 * The cloud cannot run here: provider outputs are deterministic fakes.
 */
export { installMockRuntime, valueOf, isSecret, fakeSha256, MOCK_ACCOUNT_ID, MOCK_REGION, type MockRecorder, type RecordedResource } from "../../cli/mock-runtime";

/**
 * Loads a Pulumi program afresh (a module registry of its own), as each `modelship plan` process does: pass as
 * `plan({ load: freshRequire, ... })` when one test file plans more than once.
 */
export function freshRequire(file: string): unknown {
    let exported: unknown;
    jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        exported = require(file);
    });
    return exported;
}
