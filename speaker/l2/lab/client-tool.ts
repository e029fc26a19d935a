// Lab helper for the client namespace, built on the same packet-socket addon:
//   client-tool.ts send <interface> <hex frame>...      send raw frames, then exit
//   client-tool.ts arp-latency <interface> <target IPv4> <requests/s> <seconds>
//       send ARP requests for the target at the given rate, time each reply,
//       print one JSON line with the latency percentiles (microseconds):
//       `kernel*` from the send call to the reply's kernel receive timestamp
//       (SO_TIMESTAMPNS), which leaves out this tool's own event-loop delays;
//       `js*` to when this tool's callback saw the reply.
//   client-tool.ts who-has <interface> <target IP> <our IP> <ms>
//       send one ARP request (IPv4) or Neighbor Solicitation (IPv6) for the
//       target, collect the answers for <ms>, print one JSON line with the
//       distinct MACs that answered: how many hosts claim an address.
//   client-tool.ts watch <interface> <our IPv4> <our IPv6> <interval ms> <duration ms> <VIP>...
//       for at most <duration ms>, or until SIGTERM: every interval, one ARP
//       request / Neighbor Solicitation per VIP; each answer counts for the
//       round it arrived in (kernel receive time). Prints
//       one JSON line: per VIP, run-length encoded rounds of the distinct MACs
//       that answered ([rounds, "mac,mac"] pairs; "" is a round nobody
//       answered, "?" one whose requests never left because this tool was
//       starved). What a host on the LAN sees: two MACs in a round is a
//       duplicate, none is a gap.
import { ipFromValue, parseIP } from '../../../shared/net/index.ts';
import { buildArpRequest, decodeArpFrame } from '../arp.ts';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, formatMac, macEquals, type MacAddress } from '../ethernet.ts';
import { buildNeighborSolicitation, decodeNdpFrame } from '../ndp.ts';
import { openPacketSocket } from '../packet-socket.ts';

const [command, interfaceName, ...rest] = process.argv.slice(2);
if (interfaceName === undefined) throw new Error('usage: client-tool.ts send|arp-latency <interface> ...');

if (command === 'send') {
  const socket = openPacketSocket({ interfaceName, etherType: ETHERTYPE_ARP, onFrame: () => {}, onError: () => {} });
  if (!socket.ok) throw new Error(socket.error.message);
  for (const frame of rest) {
    const sent = socket.value.send(Buffer.from(frame, 'hex'));
    if (!sent.ok) throw new Error(`send: ${sent.error}`);
  }
  socket.value.close();
} else if (command === 'arp-latency') {
  const [targetText = '', rateText = '5000', secondsText = '5'] = rest;
  const target = parseIP(targetText);
  if (!target.ok) throw new Error(target.error);
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  // Each request carries a different sender IP from 198.51.100.0/24, which the
  // reply echoes as its target IP: that pairs replies with requests.
  const slots = 250;
  const sentAt = new Array<bigint | undefined>(slots).fill(undefined);
  const sentAtRealtimeNs = new Array<bigint>(slots).fill(0n);
  const latenciesUs: number[] = [];
  const kernelLatenciesUs: number[] = [];
  const realtimeNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  let sent = 0;
  let unmatched = 0;
  let ourMac: MacAddress = new Uint8Array(6);
  const socket = openPacketSocket({
    interfaceName,
    etherType: ETHERTYPE_ARP,
    timestamps: true,
    onFrame: (frame, _packetType, receivedAtNs) => {
      const now = process.hrtime.bigint();
      const decoded = decodeArpFrame(frame);
      if (!decoded.ok || decoded.value.arp.operation !== 'reply' || decoded.value.arp.senderIP.value !== target.value.value) return;
      // Gratuitous replies (target MAC broadcast) answer nobody's request.
      if (!macEquals(decoded.value.arp.targetMac, ourMac)) return;
      const slot = Number(decoded.value.arp.targetIP.value & 0xffn) - 1;
      const at = sentAt[slot];
      if (at === undefined) {
        unmatched++;
        return;
      }
      sentAt[slot] = undefined;
      latenciesUs.push(Number(now - at) / 1000);
      if (receivedAtNs !== undefined) kernelLatenciesUs.push(Number(receivedAtNs - sentAtRealtimeNs[slot]!) / 1000);
    },
    onError: (e) => process.stderr.write(`${e.message}\n`),
  });
  if (!socket.ok) throw new Error(socket.error.message);
  ourMac = socket.value.mac;
  const frames = Array.from({ length: slots }, (_, i) =>
    buildArpRequest(target.value, ipFromValue(4, (198n << 24n) | (51n << 16n) | (100n << 8n) | BigInt(i + 1)), ourMac),
  );
  const start = process.hrtime.bigint();
  const total = Math.round(rate * seconds);
  let overwritten = 0;
  const timer = setInterval(() => {
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    const due = Math.min(total, Math.floor(elapsedS * rate));
    while (sent < due) {
      const slot = sent % slots;
      if (sentAt[slot] !== undefined) overwritten++;
      sentAt[slot] = process.hrtime.bigint();
      sentAtRealtimeNs[slot] = realtimeNs();
      const result = socket.value.send(frames[slot]!);
      if (!result.ok) throw new Error(`send: ${result.error}`);
      sent++;
    }
    if (sent >= total) {
      clearInterval(timer);
      setTimeout(() => {
        socket.value.close();
        const sorted = latenciesUs.sort((a, b) => a - b);
        const kernel = kernelLatenciesUs.sort((a, b) => a - b);
        const at = (values: number[], p: number): number => Math.round(values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN);
        const durationS = Number(process.hrtime.bigint() - start) / 1e9 - 0.2;
        process.stdout.write(
          `${JSON.stringify({
            sent,
            answered: sorted.length,
            lost: sent - sorted.length,
            overwritten,
            unmatched,
            ratePerS: Math.round(sent / durationS),
            kernelP50Us: at(kernel, 50),
            kernelP99Us: at(kernel, 99),
            kernelP999Us: at(kernel, 99.9),
            kernelMaxUs: Math.round(kernel.at(-1) ?? NaN),
            jsP50Us: at(sorted, 50),
            jsP99Us: at(sorted, 99),
            jsMaxUs: Math.round(sorted.at(-1) ?? NaN),
          })}\n`,
        );
      }, 200);
    }
  }, 1);
} else if (command === 'who-has') {
  const [targetText = '', ourText = '', msText = '500'] = rest;
  const target = parseIP(targetText);
  const ours = parseIP(ourText);
  if (!target.ok) throw new Error(target.error);
  if (!ours.ok) throw new Error(ours.error);
  const v4 = target.value.family === 4;
  const macs = new Set<string>();
  let mac: MacAddress = new Uint8Array(6);
  let replies = 0;
  const socket = openPacketSocket({
    interfaceName,
    etherType: v4 ? ETHERTYPE_ARP : ETHERTYPE_IPV6,
    onFrame: (frame) => {
      if (v4) {
        const decoded = decodeArpFrame(frame);
        if (!decoded.ok || decoded.value.arp.operation !== 'reply' || decoded.value.arp.senderIP.value !== target.value.value) return;
        // A gratuitous reply (to broadcast) announces; only a reply to us answers.
        if (!macEquals(decoded.value.arp.targetMac, mac)) return;
        replies++;
        macs.add(formatMac(decoded.value.arp.senderMac));
      } else {
        const decoded = decodeNdpFrame(frame);
        if (!decoded.ok || decoded.value.message.type !== 'advertisement' || decoded.value.message.target.value !== target.value.value) return;
        // An unsolicited NA (S=0, to all nodes) announces; only a solicited one answers.
        if (!decoded.value.message.solicited) return;
        replies++;
        macs.add(formatMac(decoded.value.message.targetLinkLayer ?? decoded.value.ethernet.source));
      }
    },
    onError: (e) => process.stderr.write(`${e.message}\n`),
  });
  if (!socket.ok) throw new Error(socket.error.message);
  mac = socket.value.mac;
  const request = v4 ? buildArpRequest(target.value, ours.value, mac) : buildNeighborSolicitation(target.value, ours.value, mac);
  const sent = socket.value.send(request);
  if (!sent.ok) throw new Error(`send: ${sent.error}`);
  setTimeout(() => {
    socket.value.close();
    process.stdout.write(`${JSON.stringify({ target: target.value.text, replies, macs: [...macs].sort() })}\n`);
  }, Number(msText));
} else if (command === 'watch') {
  const [ourV4Text = '', ourV6Text = '', intervalText = '10', durationText = '1000', ...vipTexts] = rest;
  const parse = (text: string) => {
    const ip = parseIP(text);
    if (!ip.ok) throw new Error(ip.error);
    return ip.value;
  };
  const ourV4 = parse(ourV4Text);
  const ourV6 = parse(ourV6Text);
  const intervalMs = Number(intervalText);
  // At most; SIGTERM ends the watch after the round under way (the caller's fault may heal late).
  let rounds = Math.ceil(Number(durationText) / intervalMs);
  const vips = vipTexts.map(parse);
  const index = new Map(vips.map((ip, i) => [ip.value, i]));
  // seen[vip][round]: the MACs that answered in that round. A round is
  // judged by the kernel's receive timestamps against the times its requests
  // left, so this tool's own event-loop delays do not move answers between
  // rounds; a round whose requests never left (the tool was starved) is
  // unknown, not a gap. Filled as answers come: `rounds` is only an upper bound.
  const seen = vips.map((): Array<Set<string> | undefined> => []);
  const sentAtNs: bigint[] = [];
  const realtimeNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const startNs = realtimeNs();
  const startedAt = Number(startNs) / 1e6;
  const roundOf = (atNs: bigint): number => {
    // The last round whose requests left before this answer arrived.
    let r = sentAtNs.length - 1;
    while (r >= 0 && (sentAtNs[r] === undefined || sentAtNs[r]! > atNs)) r--;
    return r;
  };
  const record = (ip: bigint, mac: MacAddress, atNs: bigint | undefined): void => {
    const i = index.get(ip);
    const round = roundOf(atNs ?? realtimeNs());
    if (i !== undefined && round >= 0 && round < rounds) (seen[i]![round] ??= new Set()).add(formatMac(mac));
  };
  let arpMac: MacAddress = new Uint8Array(6);
  const arp = openPacketSocket({
    interfaceName,
    etherType: ETHERTYPE_ARP,
    timestamps: true,
    onFrame: (frame, _type, atNs) => {
      const decoded = decodeArpFrame(frame);
      if (!decoded.ok || decoded.value.arp.operation !== 'reply') return;
      // Only answers to our requests count, not gratuitous announcements.
      if (!macEquals(decoded.value.arp.targetMac, arpMac) || decoded.value.arp.targetIP.value !== ourV4.value) return;
      record(decoded.value.arp.senderIP.value, decoded.value.arp.senderMac, atNs);
    },
    onError: (e) => process.stderr.write(`${e.message}\n`),
  });
  if (!arp.ok) throw new Error(arp.error.message);
  arpMac = arp.value.mac;
  const ndp = openPacketSocket({
    interfaceName,
    etherType: ETHERTYPE_IPV6,
    timestamps: true,
    onFrame: (frame, _type, atNs) => {
      const decoded = decodeNdpFrame(frame);
      if (!decoded.ok || decoded.value.message.type !== 'advertisement' || !decoded.value.message.solicited) return;
      if (decoded.value.destination.value !== ourV6.value) return;
      record(decoded.value.message.target.value, decoded.value.message.targetLinkLayer ?? decoded.value.ethernet.source, atNs);
    },
    onError: (e) => process.stderr.write(`${e.message}\n`),
  });
  if (!ndp.ok) throw new Error(ndp.error.message);
  const requests = vips.map((vip) =>
    vip.family === 4
      ? { socket: arp.value, frame: buildArpRequest(vip, ourV4, arpMac) }
      : { socket: ndp.value, frame: buildNeighborSolicitation(vip, ourV6, ndp.value.mac) },
  );
  let sendFailures = 0;
  const intervalNs = BigInt(Math.round(intervalMs * 1e6));
  process.on('SIGTERM', () => {
    rounds = Math.min(rounds, Number((realtimeNs() - startNs) / intervalNs) + 1);
  });
  const tick = (): void => {
    const now = realtimeNs();
    const round = Number((now - startNs) / intervalNs);
    if (round >= rounds) {
      // The last round's answers get one more interval to arrive.
      setTimeout(() => {
        arp.value.drain();
        ndp.value.drain();
        arp.value.close();
        ndp.value.close();
        const encode = (perRound: ReadonlyArray<Set<string> | undefined>): Array<[number, string]> => {
          const runs: Array<[number, string]> = [];
          for (let r = 0; r < rounds; r++) {
            const key = sentAtNs[r] === undefined ? '?' : [...(perRound[r] ?? [])].sort().join(',');
            const last = runs.at(-1);
            if (last && last[1] === key) last[0]++;
            else runs.push([1, key]);
          }
          return runs;
        };
        const out = { intervalMs, rounds, startedAt, sendFailures, vips: Object.fromEntries(vips.map((vip, i) => [vip.text, encode(seen[i]!)])) };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      }, intervalMs);
      return;
    }
    if (sentAtNs[round] === undefined) {
      sentAtNs[round] = realtimeNs();
      for (const r of requests) if (!r.socket.send(r.frame).ok) sendFailures++;
    }
    const nextMs = Number(startNs + BigInt(round + 1) * intervalNs - realtimeNs()) / 1e6;
    setTimeout(tick, Math.max(0, nextMs));
  };
  tick();
} else {
  throw new Error(`unknown command ${command}`);
}
