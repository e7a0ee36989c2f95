import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { DemoWorkloadChart } from '../../../k8s/charts/demo-workload-chart';
import type { KubeObject } from '../../support/k8s-manifests';

function daemonSet(): KubeObject {
  const chart = new DemoWorkloadChart(Testing.app(), 'demo', {
    name: 'ks-demo',
    namespace: 'demo',
  });
  const [ds] = Testing.synth(chart) as KubeObject[];
  return ds;
}

/**
 * Runs a container's `/bin/sh -c` script with stand-in chown/chmod that record
 * their arguments, so the test sees what the script does to the directory.
 */
function runScript(script: string): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-init-'));
  const log = path.join(dir, 'calls');
  for (const tool of ['chown', 'chmod']) {
    fs.writeFileSync(path.join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> "${log}"\n`, {
      mode: 0o755,
    });
  }
  const result = spawnSync('/bin/sh', ['-c', script], {
    env: { PATH: `${dir}:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  return fs.readFileSync(log, 'utf8').trim().split('\n');
}

describe('DemoWorkloadChart', () => {
  test('the hostPath directory the kubelet creates as root 0755 is handed to the writer before it starts', () => {
    const spec = daemonSet().spec.template.spec;
    const [volume] = spec.volumes;
    expect(volume.hostPath).toEqual({ path: '/var/lib/ks-demo', type: 'DirectoryOrCreate' });

    const [writer] = spec.containers;
    const writerMount = writer.volumeMounts.find((m: KubeObject) => m.name === volume.name);
    const { runAsUser: uid, runAsGroup: gid } = writer.securityContext;
    expect(uid).toBe(65534);
    expect(gid).toBe(65534);
    expect(writer.securityContext.runAsNonRoot).toBe(true);

    // Exactly one init container, on the same volume at the same path, root with only the capabilities it needs.
    expect(spec.initContainers).toHaveLength(1);
    const [init] = spec.initContainers;
    expect(init.volumeMounts).toEqual([{ name: volume.name, mountPath: writerMount.mountPath }]);
    expect(init.securityContext).toMatchObject({
      runAsUser: 0,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER'] },
    });
    expect(init.command).toEqual(['/bin/sh', '-c']);
    expect(runScript(init.args[0])).toEqual([
      `chown ${uid}:${gid} ${writerMount.mountPath}`,
      `chmod 0750 ${writerMount.mountPath}`,
    ]);
  });

  test('the writer writes only under its mount, as a non-root user, with a read-only root filesystem', () => {
    const [writer] = daemonSet().spec.template.spec.containers;
    expect(writer.args[0]).toMatch(/^echo sample_data > \/source\/data\/data\.txt && /);
    expect(writer.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });
});
