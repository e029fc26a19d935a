export * from './crds.ts';
export * from './names.ts';
