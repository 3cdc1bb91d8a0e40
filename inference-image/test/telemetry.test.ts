import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths';
import { applyTelemetryDecision, telemetryDecision } from '../src/telemetry';

describe('ONNX Runtime telemetry decision', () => {
  it('is off when ORT_DISABLE_TELEMETRY is unset or empty', () => {
    expect(telemetryDecision({})).toEqual({ value: '1', optedIn: false });
    expect(telemetryDecision({ ORT_DISABLE_TELEMETRY: ' ' })).toEqual({ value: '1', optedIn: false });
    expect(telemetryDecision({ ORT_DISABLE_TELEMETRY: '1' })).toEqual({ value: '1', optedIn: false });
  });

  it('is on only when the operator sets ORT_DISABLE_TELEMETRY=0 explicitly', () => {
    expect(telemetryDecision({ ORT_DISABLE_TELEMETRY: '0' })).toEqual({ value: '0', optedIn: true });
  });

  it('rejects any other value, naming the variable and the fix', () => {
    expect(() => telemetryDecision({ ORT_DISABLE_TELEMETRY: 'false' })).toThrow(/ORT_DISABLE_TELEMETRY="false": must be "1".*or "0"/);
  });

  it('writes the decision into the environment ONNX Runtime reads', () => {
    const env: NodeJS.ProcessEnv = {};
    applyTelemetryDecision(env);
    expect(env.ORT_DISABLE_TELEMETRY).toBe('1');
  });
});

describe('the server process', () => {
  const main = join(PACKAGE_ROOT, 'dist', 'src', 'main.js');
  beforeAll(() => {
    if (!existsSync(main)) throw new Error(`${main} missing; run "npm run build" first`);
  });

  it('exits 2 with the fix on an invalid ORT_DISABLE_TELEMETRY, before loading anything', () => {
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, ORT_DISABLE_TELEMETRY: 'no', PORT: '0' }, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ORT_DISABLE_TELEMETRY="no": must be "1"/);
  });
});
