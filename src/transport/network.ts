import { promises as dns } from 'node:dns';
import { labNetwork } from '../lab/network.js';
import { tcpConnect } from '../probe/reach.js';
import { DEFAULT_OFFERS, negotiateRdp } from '../rdp/negotiate.js';
import type { Network, NetworkOptions } from './network-types.js';
import type { TransportTarget } from './targets.js';

export type { Network, NetworkOptions };

/** The network as it is: sockets and the resolver. */
function realNetwork(opts: NetworkOptions): Network {
  return {
    resolve: async (name) => {
      try {
        return (await dns.lookup(name, { family: 4 })).address;
      } catch {
        return null;
      }
    },
    reach: (address, ports) => Promise.all(ports.map((port) => tcpConnect(address, port, opts.timeoutMs))),
    negotiateRdp: (address, port, offers) => negotiateRdp(address, port, { timeoutMs: opts.timeoutMs, offers }),
  };
}

/** The network a target is seen through: the only place that tells a lab target from a real one. */
export function networkFor(target: TransportTarget, opts: NetworkOptions): Network {
  const network = target.kind === 'lab' ? labNetwork(target, opts) : realNetwork(opts);
  return {
    resolve: (name) => network.resolve(name),
    reach: async (address, ports) => {
      const distinct = [...new Set(ports)];
      return distinct.length === 0 ? [] : network.reach(address, distinct);
    },
    negotiateRdp: (address, port, offers = DEFAULT_OFFERS) => network.negotiateRdp(address, port, offers),
  };
}
