import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** Prints a machine as a Mermaid state diagram (`rdpfix playbooks show ID --graph`). Pure. */
export function toMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const name = (n: AnyStateNode) => n.path.join('_') || 'root';
  const label = (eventType: string, guarded: boolean) => {
    const base = eventType.startsWith('xstate.done.actor') ? 'done' : eventType.startsWith('xstate.error.actor') ? 'error' : eventType;
    return [base, guarded ? '[guard]' : ''].filter(Boolean).join(' ');
  };
  const walk = (node: AnyStateNode, indent: string) => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (node.parent && children.length) {
      lines.push(`${indent}state ${name(node)} {`);
      indent += '  ';
    }
    if (children.length && node.initial) {
      const initial = (node.initial.target as AnyStateNode[])[0];
      if (initial) lines.push(`${indent}[*] --> ${name(initial)}`);
    }
    for (const child of children) walk(child, indent);
    for (const child of children) {
      if (child.type === 'final') lines.push(`${indent}${name(child)} --> [*]`);
      const transitions = [...child.transitions.values()].flat().concat(child.always ?? []);
      for (const t of transitions) {
        for (const target of (t.target ?? []) as AnyStateNode[]) {
          const text = label(t.eventType ?? '', !!t.guard);
          lines.push(`${indent}${name(child)} --> ${name(target)}${text ? ` : ${text}` : ''}`);
        }
      }
      if (child.description) lines.push(`${indent}note right of ${name(child)} : ${child.description.replace(/[:;]/g, ',')}`);
    }
    if (node.parent && children.length) lines.push(`${indent.slice(2)}}`);
  };
  walk(machine.root, '  ');
  return lines.join('\n');
}
