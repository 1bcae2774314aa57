/**
 * @module bot: the README's example, a bot that answers `!ping` in #bots,
 * built on the client SDK (`xstate-chat/client`). It survives server
 * restarts by itself: the SDK reconnects, rejoins #bots and delivers what
 * was said meanwhile (`source: 'recovered'`), each message once.
 *
 *   npm run build && CHAT_URL=ws://127.0.0.1:8667 node dist/examples/bot.js
 */
import { WebSocket } from 'ws';
import { connect } from 'xstate-chat/client';

const chat = await connect({ url: process.env.CHAT_URL ?? 'ws://127.0.0.1:8667', nick: 'pingbot', WebSocket });
chat.on('state', ({ state }) => console.log(`connection: ${state}`));
chat.on('message', ({ channel, user, message, own, source }) => {
  // Not its own echoes, and not the channel's past it is shown on joining.
  if (own || source === 'history' || message !== '!ping') return;
  chat.send(channel, `pong, ${user}`).catch((error) => console.error(`could not answer: ${error.code}`));
});
await chat.join('#bots');
console.log('ready in #bots');
