import type { Engine, EngineName } from '../engine.js';
import { launchChromium } from './chromium.js';
import { launchFirefoxEngine } from './firefox.js';
import { launchWebKit } from './webkit.js';

/** Starts the engine `name`; the caller closes it. */
export function launchEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case 'chromium':
      return launchChromium();
    case 'firefox':
      return launchFirefoxEngine();
    case 'webkit':
      return launchWebKit();
  }
}
