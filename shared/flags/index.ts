// Command-line helpers both programs use: every flag can also come from the
// environment as BALLAST_<FLAG_IN_UPPER_SNAKE_CASE>.
export { flagValue, parseBindAddress, parseBool, parseDuration } from './flags.ts';
