import { Controller, Get, Optional, UseGuards } from '@nestjs/common';
import { AdminGuard } from '../auth/admin.guard';
import { listPlugins } from '../plugins/plugin-listing';
import { PluginRegistry } from '../plugins/plugin-registry';
import { PluginWorkers } from '../workers/plugin-workers';

/**
 * Operator view of the loaded plugins: name, package, channel, version, SDK range, health.
 * Health is what this process knows: the plugins it runs (role `all` or `worker`); `unknown` on
 * an API-only process, which loads plugins for their metadata alone.
 */
@Controller('admin/plugins')
@UseGuards(AdminGuard)
export class PluginsController {
  constructor(
    private readonly plugins: PluginRegistry,
    @Optional() private readonly workers?: PluginWorkers,
  ) {}

  @Get()
  list() {
    return { plugins: listPlugins(this.plugins, this.workers?.health() ?? {}) };
  }
}
