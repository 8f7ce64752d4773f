// Two real skylinkjs 0.6.26 pages (A, B; C for the lock test) call each other through the Rust
// server with socket.io over WebSocket (skylinkjs' default transport).
import { callScenario } from '../lib/scenario.mjs';

callScenario({ label: 'call over websocket', transport: 'websocket' });
