// The same call scenario with every page forced onto Engine.IO long-polling: the init script hides
// window.WebSocket before skylink.complete.js loads, so skylinkjs opens its socket in "Polling" mode
// and socket.io-client can only use XHR polling. The scenario checks the page's network traffic to
// prove it (transport=polling requests, no websocket).
import { callScenario } from '../lib/scenario.mjs';

callScenario({ label: 'call over long-polling', transport: 'polling' });
