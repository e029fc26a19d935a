export { elect, type ElectionInput } from './elect.ts';
export { agree, type Agreement, type AgreementInput } from './agreement.ts';
export { announcementsFor, type Announcement, type Election, type GroupDecision, type NotAnnounced, type NotAnnouncedCode, type ServiceDecision } from './decision.ts';
export { RendezvousMemo, rendezvousOrder, rendezvousWinner } from './rendezvous.ts';
