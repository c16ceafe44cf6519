/**
 * An app that loads an OpenTelemetry metrics SDK after the preload started is
 * setting up its own MeterProvider: the preload's global one steps aside right
 * then, before the app's `setGlobalMeterProvider` (or NodeSDK's `start()`)
 * runs, so the app's registration succeeds and nothing is logged at it. The
 * preload's own SDK modules are all loaded before this hook is installed.
 */
import { yieldGlobalMeterProvider } from '../coexistence/AppMeterProviders';
import type { ModuleHook } from './ModuleLoadHooks';

/** The module hook for the metrics SDK packages. */
export const otelSdkHook: ModuleHook = {
  modules: ['@opentelemetry/sdk-metrics', '@opentelemetry/sdk-node'],
  onLoad() {
    yieldGlobalMeterProvider();
  },
};
