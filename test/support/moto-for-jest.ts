import { startMotoServer } from './moto-server';
import type { MotoServer } from './moto-server';

/**
 * One moto_server for a jest test file: started before its tests (60 s, the
 * suite's timeout), reset to empty before each test, stopped after all. Call
 * it at the file's top level; read `endpoint` inside tests and hooks only.
 */
export function motoForEachTest(): { readonly endpoint: string } {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMotoServer();
  }, 60000);
  afterAll(async () => {
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto?.reset();
  });
  return {
    get endpoint(): string {
      if (moto === undefined)
        throw new Error('moto_server starts in beforeAll: read endpoint inside a test');
      return moto.endpoint;
    },
  };
}
