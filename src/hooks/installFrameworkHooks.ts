/**
 * Every module load hook this package installs, in one list: frameworks whose
 * route or exception the raw request does not carry, and the OpenTelemetry
 * SDK an app may bring along. Installed once per recording process, after
 * the package's own modules have loaded.
 */
import { expressLayerHook, expressRouteHook, finalHandlerHook } from './expressHook';
import { hapiHook } from './hapiHook';
import { koaHook } from './koaHook';
import { ModuleLoadHooks } from './ModuleLoadHooks';
import { nestErrorHook } from './nestErrorHook';
import { otelSdkHook } from './otelSdkHook';
import { restifyHook } from './restifyHook';

let installed: ModuleLoadHooks | undefined;

/** Install the hooks (idempotent). */
export function installFrameworkHooks(): void {
  installed ??= ModuleLoadHooks.install([koaHook, hapiHook, expressRouteHook, expressLayerHook, finalHandlerHook, nestErrorHook, restifyHook, otelSdkHook]);
}

/** Remove them (the programmatic `shutdown()`); packages already loaded keep their small wrappers, which then only stash. */
export function uninstallFrameworkHooks(): void {
  installed?.uninstall();
  installed = undefined;
}
