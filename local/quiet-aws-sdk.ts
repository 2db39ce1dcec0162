// Imported first by `npm start` and the CLI. On Node 20 the AWS SDK prints a
// 9-line upgrade notice at the first client; the README states the supported
// Node versions, so the notice is noise in every start. An explicit setting wins.
if (!process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export {};
