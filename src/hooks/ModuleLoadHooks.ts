/**
 * Module load hooks: run a callback when the app loads a named package, in
 * CommonJS (require-in-the-middle) and ES modules (import-in-the-middle, on
 * Node's `module.register` loader), the way OpenTelemetry's instrumentations
 * find frameworks. Only the listed packages are intercepted; a hooked package
 * is handed over unchanged (callbacks may add to its prototypes, never replace
 * its exports).
 *
 * The ESM loader runs on a thread of its own, so it is registered only where
 * ES modules can load frameworks: an app preloaded with `--import`, or one
 * whose entry is an ES module.
 */
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hook as RequireHook } from 'require-in-the-middle';
import { errorMessage } from '../self/errorMessage';
import { warnOnce } from '../self/Logger';

/**
 * Called with what the package exports: `module.exports` for `require`, the
 * module namespace for `import` (its `default` is `module.exports` of a
 * CommonJS package). Must tolerate both and being called twice.
 */
export type ModuleLoadListener = (exports: unknown, name: string) => void;

/** Packages (or, for CommonJS, files inside them such as `router/lib/layer.js`) and what to do when one loads. */
export interface ModuleHook {
  readonly modules: readonly string[];
  readonly onLoad?: ModuleLoadListener;
  /**
   * CommonJS only: what `require` returns instead (a package that exports a
   * single function, wrapped). ES namespaces cannot be replaced, so a hook
   * that needs this is for packages frameworks `require` internally.
   */
  readonly replace?: (exports: unknown) => unknown;
}

interface Unhookable {
  unhook(): void;
}

/** True when ES modules may load the hooked packages in this process. */
export function esmLikely(argv: readonly string[] = process.argv, execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => arg === '--import' || arg.startsWith('--import=') || arg.startsWith('--experimental-loader') || arg.startsWith('--loader'))) {
    return true;
  }
  const entry = argv[1];
  if (entry === undefined) return false;
  const extension = extname(entry);
  if (extension === '.mjs' || extension === '.mts') return true;
  if (extension === '.cjs' || extension === '.cts') return false;
  return nearestPackageType(resolve(entry)) === 'module';
}

function nearestPackageType(file: string): string | undefined {
  let dir = dirname(file);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type;
      } catch {
        return undefined;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let esmLoaderRegistered = false;

/** `router/lib/layer.js`: a file inside a package rather than the package. */
function isPackageFile(name: string): boolean {
  return name.includes('/lib/');
}

/** The package a file belongs to (`router/lib/layer.js` → `router`, `@scope/pkg/lib/x.js` → `@scope/pkg`). */
function packageOf(file: string): string {
  return file.slice(0, file.indexOf('/lib/'));
}

/** The hooks installed in this process; {@link uninstall} removes them (the ESM loader stays, inert). */
export class ModuleLoadHooks {
  private readonly installed: Unhookable[] = [];

  private constructor() {}

  /** Install `hooks`. Never throws: a failure is logged once and leaves the app unhooked. */
  static install(hooks: readonly ModuleHook[], options: { readonly esm?: boolean } = {}): ModuleLoadHooks {
    const self = new ModuleLoadHooks();
    for (const hook of hooks) {
      const guarded = guard(hook.onLoad);
      const replace = hook.replace;
      // require-in-the-middle matches package names; files inside a package are reported as `package/path/file.js`.
      const files = hook.modules.filter(isPackageFile);
      const packages = [...new Set(hook.modules.map((name) => (isPackageFile(name) ? packageOf(name) : name)))];
      try {
        self.installed.push(
          new RequireHook(packages, { internals: files.length > 0 }, (exports, name) => {
            if (!hook.modules.includes(name)) return exports;
            guarded(exports, name);
            if (replace === undefined) return exports;
            try {
              return replace(exports) as typeof exports;
            } catch {
              return exports;
            }
          }),
        );
      } catch (error) {
        warnOnce('hooks.require', `module load hooks not installed: ${errorMessage(error)}`);
      }
    }
    if (options.esm ?? esmLikely()) self.installEsm(hooks);
    return self;
  }

  /** Remove every hook (packages already loaded keep what the callbacks added). */
  uninstall(): void {
    for (const hook of this.installed.splice(0)) hook.unhook();
  }

  private installEsm(hooks: readonly ModuleHook[]): void {
    // Files inside packages are reached through require() from the package itself, which the CommonJS hook sees.
    const packages = [...new Set(hooks.filter((hook) => hook.onLoad !== undefined).flatMap((hook) => hook.modules.filter((name) => !isPackageFile(name))))];
    try {
      const register = (Module as unknown as { register?: (specifier: string, parent: string, options: object) => void }).register;
      if (typeof register !== 'function') return;
      if (!esmLoaderRegistered) {
        register('import-in-the-middle/hook.mjs', pathToFileURL(__filename).href, { data: { include: packages } });
        esmLoaderRegistered = true;
      }

      const { Hook: ImportHook } = require('import-in-the-middle') as typeof import('import-in-the-middle');
      for (const hook of hooks) {
        const names = hook.modules.filter((name) => !isPackageFile(name));
        if (names.length === 0 || hook.onLoad === undefined) continue;
        const guarded = guard(hook.onLoad);
        this.installed.push(new ImportHook(names, (exports, name) => guarded(exports, name)));
      }
    } catch (error) {
      warnOnce('hooks.import', `ES module load hooks not installed: ${errorMessage(error)}`);
    }
  }
}

/** A listener that throws is logged once; the app's import goes on. */
function guard(listener: ModuleLoadListener | undefined): ModuleLoadListener {
  return (exports, name) => {
    if (listener === undefined) return;
    try {
      listener(exports, name);
    } catch (error) {
      warnOnce(`hooks.${name}`, `hooking ${name} failed, its requests fall back to the normalised path: ${errorMessage(error)}`);
    }
  };
}
