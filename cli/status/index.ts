// `ballast status`: what Ballast is doing and what is wrong, at a glance.
export { analyze, isSpeakerPod, SPEAKER_DAEMONSET, SPEAKER_LABELS, type ClusterSnapshot, type Problem, type StatusReport } from './analyze.ts';
export { renderStatus, reportToJson, type RenderOptions } from './render.ts';
export { fetchSnapshot, apiMessage } from './fetch.ts';
