// @nestjs/swagger declares TypeScript an optional peer (for its compiler plugin, a build-time
// tool); pnpm resolves it to the server's TypeScript, which `pnpm deploy --prod` would then ship
// (31 MB) in the image. The server never loads the plugin at run time.
module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name === '@nestjs/swagger' && pkg.peerDependencies) {
        delete pkg.peerDependencies.typescript;
        if (pkg.peerDependenciesMeta) delete pkg.peerDependenciesMeta.typescript;
      }
      return pkg;
    },
  },
};
