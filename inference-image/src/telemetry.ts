/**
 * ONNX Runtime reports usage to Microsoft (mobile.events.data.microsoft.com, plus a device id and an event database
 * under $HOME/.cache) unless ORT_DISABLE_TELEMETRY=1. The image sets it; this module sets it for a server run any
 * other way (`npm run serve`), before onnxruntime-node is loaded. main.ts imports it first, for that side effect.
 * An operator who wants ONNX Runtime's telemetry opts in by setting ORT_DISABLE_TELEMETRY=0 explicitly.
 */

export const TELEMETRY_ENV = 'ORT_DISABLE_TELEMETRY';

export interface TelemetryDecision {
  /** The value ORT_DISABLE_TELEMETRY must hold before ONNX Runtime loads. */
  value: '0' | '1';
  /** True only when the operator set ORT_DISABLE_TELEMETRY=0 themselves. */
  optedIn: boolean;
}

/** Pure: unset or empty means off ("1"); "1" and "0" are kept; anything else is a configuration error. */
export function telemetryDecision(env: NodeJS.ProcessEnv): TelemetryDecision {
  const raw = (env[TELEMETRY_ENV] ?? '').trim();
  if (raw === '' || raw === '1') return { value: '1', optedIn: false };
  if (raw === '0') return { value: '0', optedIn: true };
  throw new Error(
    `invalid configuration:\n  ${TELEMETRY_ENV}=${JSON.stringify(raw)}: must be "1" (default: ONNX Runtime telemetry off) ` +
      `or "0" (opt in to ONNX Runtime's telemetry to Microsoft); unset it to keep telemetry off`,
  );
}

/** Writes the decision into `env` (process.env at startup) and returns it. */
export function applyTelemetryDecision(env: NodeJS.ProcessEnv): TelemetryDecision {
  const decision = telemetryDecision(env);
  env[TELEMETRY_ENV] = decision.value;
  return decision;
}

let startupDecision: TelemetryDecision;
try {
  startupDecision = applyTelemetryDecision(process.env);
} catch (err) {
  process.stderr.write(`modelship-inference: ${(err as Error).message}\n`);
  process.exit(2);
}

/** What was decided when the server started, for its startup log line. */
export const telemetry: TelemetryDecision = startupDecision;
