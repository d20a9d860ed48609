// SPDX-License-Identifier: GPL-3.0-or-later
//
// The patient's side of the chat's realtime frames, for run-chat-test.sh: connects to /ws with a
// patient session, says it is typing, then that the doctor's messages up to UP_TO were delivered
// and read, as the patient page does.
//
//   node --experimental-websocket chat-patient-frames.mjs BASE_URL TOKEN ENCOUNTER UP_TO

const [base, token, encounter, upTo] = process.argv.slice(2);
const url = base.replace(/^http/, 'ws') + '/ws?access_token=' + encodeURIComponent(token);
const socket = new WebSocket(url);
const send = (frame) => socket.send(JSON.stringify(frame));
const timer = setTimeout(() => { console.error('no hello from the server'); process.exit(1); }, 10000);

socket.addEventListener('message', (event) => {
  const frame = JSON.parse(event.data);
  if (frame.type !== 'hello')
    return;
  clearTimeout(timer);
  send({ type: 'typing', encounter });
  setTimeout(() => {
    send({ type: 'receipt', encounter, state: 'delivered', upTo });
    send({ type: 'receipt', encounter, state: 'read', upTo });
    setTimeout(() => { socket.close(); console.log('frames sent'); }, 500);
  }, 1500);
});
socket.addEventListener('error', () => { console.error('websocket error'); process.exit(1); });
