// `ballast convert-metallb`: MetalLB configuration to Ballast's.
export { convertMetalLB, type ConversionNote, type ConversionResult, type NoteSeverity } from './metallb.ts';
