import { ConfigError, loadConfig } from '../src/config';
import { buildServer } from '../src/server';
import { get, loadTestModel, silent, testConfig } from './helpers';

describe('METRICS_PORT: /metrics on a listener of its own', () => {
  it('is off by default, and refuses the serving port', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9091' }).metricsPort).toBe(9091);
    expect(() => loadConfig({ PORT: '9000', METRICS_PORT: '9000' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '9000', METRICS_PORT: '9000' })).toThrow(/METRICS_PORT=9000 is PORT too/);
    expect(() => loadConfig({ METRICS_PORT: '0' })).toThrow(/METRICS_PORT/);
  });

  it('serves /metrics there only: the serving port answers 404 for it', async () => {
    const config = testConfig({ METRICS_PORT: '1' });
    const server = buildServer({ config, logger: silent, defaultMetrics: false });
    await server.attachModel(await loadTestModel(config));
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const metricsUrl = await server.metricsApp!.listen({ host: '127.0.0.1', port: 0 });
    try {
      const scraped = await get(`${metricsUrl}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.text).toMatch(/modelship_model_ready 1/);
      expect((await get(`${url}/metrics`)).status).toBe(404);
      expect((await get(`${url}/v2/health/ready`)).status).toBe(200);
      expect((await get(`${metricsUrl}/v2/health/ready`)).status).toBe(404);
    } finally {
      await server.drain(1000);
    }
    // The drain closes the metrics listener too.
    await expect(fetch(`${metricsUrl}/metrics`)).rejects.toThrow();
  });

  it('without it, /metrics stays on the serving port', async () => {
    const config = testConfig();
    const server = buildServer({ config, logger: silent, defaultMetrics: false });
    expect(server.metricsApp).toBeUndefined();
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect((await get(`${url}/metrics`)).status).toBe(200);
    } finally {
      await server.app.close();
    }
  });
});
