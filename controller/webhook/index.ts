// The validating admission webhook for IPAddressPool and L2Advertisement.
export { startWebhook, liveObjects, type Webhook, type WebhookOptions } from './webhook.ts';
export { startWebhookServer, type WebhookObjects, type WebhookLogger, type WebhookServer, type WebhookServerOptions } from './server.ts';
