// Pro Santé Connect login (R16): OpenID Connect authorization code flow with PKCE.
import type { FastifyInstance } from 'fastify';
import type { PortalContext } from './context';

export function registerPscRoutes(_app: FastifyInstance, ctx: PortalContext): void {
  if (ctx.config.portal.oidc.issuer === '') return;
}
