// The lab's address plan. Documentation ranges only (RFC 5737, RFC 3849):
//   198.51.100.0/25, 2001:db8:0:1::/64    the LAN (nodes .11…, client .100)
//   198.51.100.128/25, 2001:db8:0:ffff::/108  Service ClusterIPs (control-plane.ts)
//   203.0.113.0/24, 2001:db8:100::/40     load-balancer pools; on-link for the client,
//                                          REDIRECTed to the node agent by the kube-proxy stand-in
export const LAN_V4_PREFIX = 25;
export const LAN_V6_PREFIX = 64;
export const LB_RANGE_V4 = '203.0.113.0/24';
export const LB_RANGE_V6 = '2001:db8:100::/40';
/** Where the kube-proxy stand-in sends Service traffic on every node. */
export const NODE_HTTP_PORT = 18080;
/** The API server as processes inside a node namespace see it. */
export const NODE_API_PORT = 6443;

export const nodeIPv4 = (i: number): string => `198.51.100.${10 + i}`;
export const nodeIPv6 = (i: number): string => `2001:db8:0:1::${10 + i}`;
export const CLIENT_IPV4 = '198.51.100.100';
export const CLIENT_IPV6 = '2001:db8:0:1::100';

/** Locally administered unicast MACs (02:…), one per member; LANs are isolated, so they repeat across LANs. */
export const nodeMac = (i: number): string => `02:ba:57:00:00:${i.toString(16).padStart(2, '0')}`;
export const CLIENT_MAC = '02:ba:57:00:00:fe';
