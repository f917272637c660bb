/** Files attached to a prompt: limits, safe names, and the one download helper. */
export { checkFiles, dataUrl, describeFile, downloadFiles, inboundFile, typeOf, type AttachedFile, type FetchFile, type InboundFile } from './download.js';
export { DEFAULT_FILE_TYPES, filesSchema, formatSize, mimeAllowed, parseSize, type FileLimits } from './limits.js';
export { safeFileName, uniqueFileNames } from './names.js';
