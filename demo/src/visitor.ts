// Who this browser is, for a demo without logins: a name kept in localStorage (every tab of the
// browser shares it), given by `?name=` in the address or made up on the first visit, and set in
// the `demo_name` cookie, which the demo server counts presence under (demo-server/visitor.js).

const KEY = 'ssemux-demo-name';
const COOKIE = 'demo_name';
const MAX_NAME = 40;
const ANIMALS = ['otter', 'heron', 'lynx', 'marten', 'ibex', 'puffin', 'gecko', 'tapir'];

function chooseName(): string {
  const asked = new URLSearchParams(location.search).get('name')?.trim();
  let stored: string | null = null;
  try {
    if (asked) localStorage.setItem(KEY, asked.slice(0, MAX_NAME));
    stored = localStorage.getItem(KEY);
  } catch {
    // Storage refused (a sandboxed frame): a name for this page only.
  }
  if (stored) return stored;
  const made = asked?.slice(0, MAX_NAME) || `${ANIMALS[Math.floor(Math.random() * ANIMALS.length)]}-${Math.floor(Math.random() * 900 + 100)}`;
  try {
    localStorage.setItem(KEY, made);
  } catch {
    // As above.
  }
  return made;
}

/** This browser's visitor name. */
export const visitorName = chooseName();

/** Sets the cookie before the realtime client connects: the server reads it on each connection. */
export function announceVisitor(): void {
  document.cookie = `${COOKIE}=${encodeURIComponent(visitorName)}; Path=/; SameSite=Lax`;
}
