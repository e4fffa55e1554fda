// Client autoconfiguration on the portal's listener.
import type { FastifyInstance } from 'fastify';
import type { PortalContext } from './context';

export function registerAutoconfigRoutes(_app: FastifyInstance, _ctx: PortalContext): void {}
