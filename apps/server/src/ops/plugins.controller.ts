import { Controller, Get, Optional } from '@nestjs/common';
import { RequireAdmin, RequireApiKey } from '../auth/require-auth';
import { listPlugins } from '../plugins/plugin-listing';
import { PluginRegistry } from '../plugins/plugin-registry';
import { PluginWorkers } from '../workers/plugin-workers';

/**
 * The loaded plugins: name, package, channel, version, SDK range, health — for operators with the
 * admin token (`/admin/plugins`, what `clarion plugins` reads) and for a product service's server
 * key (`/v1/plugins`: which channels this server can send on). Health is what this process knows:
 * the plugins it runs (role `all` or `worker`); `unknown` on an API-only process, which loads
 * plugins for their metadata alone.
 */
@Controller()
export class PluginsController {
  constructor(
    private readonly plugins: PluginRegistry,
    @Optional() private readonly workers?: PluginWorkers,
  ) {}

  @Get('admin/plugins')
  @RequireAdmin()
  list() {
    return { plugins: listPlugins(this.plugins, this.workers?.health() ?? {}) };
  }

  /** Server keys only (the guard refuses client keys): versions are no business of an end user's app. */
  @Get('v1/plugins')
  @RequireApiKey()
  listForApp() {
    return this.list();
  }
}
