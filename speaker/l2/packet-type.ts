/** sll_pkttype values (linux/if_packet.h): how the kernel classified a received frame. */
export const PacketType = {
  host: 0,
  broadcast: 1,
  multicast: 2,
  otherHost: 3,
  outgoing: 4,
} as const;
