export {
  type CacheMcpClientOptions,
  cacheMcpClient,
  type McpClientLike,
  type McpReadSpec,
  type McpToolArguments,
  type McpToolSpec,
  type McpWriteSpec,
} from './cache-mcp-client.js';
