import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Files larger than this go up in parts of (at least) this size. */
export const PART_BYTES = 16 * 1024 * 1024;
/** Parts in flight at once for one file: enough to fill a link, few enough to stay polite. */
const PARTS_AT_ONCE = 4;
/** S3's limit on the number of parts of one upload. */
const MAX_PARTS = 10_000;

export interface ObjectAddress {
  bucket: string;
  key: string;
}

/**
 * Uploads `data` as a multipart upload. As with a single PUT, the object appears under its key
 * only when CompleteMultipartUpload succeeds, never half-written. A failed upload is aborted,
 * best effort: some servers do not implement abort, and a crash leaves the parts behind anyway
 * (an AbortIncompleteMultipartUpload lifecycle rule on the bucket clears those).
 */
export async function uploadInParts(
  client: S3Client,
  target: ObjectAddress,
  data: Uint8Array,
): Promise<void> {
  const Bucket = target.bucket;
  const Key = target.key;
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  if (UploadId === undefined) throw new Error('CreateMultipartUpload answered without an UploadId');
  try {
    const Parts = await uploadParts(client, { ...target, uploadId: UploadId }, data);
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }),
    );
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }))
      .catch(() => undefined);
    throw error;
  }
}

/**
 * Sends the parts, a few at a time, and lists them in order for the completion. After a failure
 * no new part starts, and this waits for those in flight, so that the abort comes after them.
 */
async function uploadParts(
  client: S3Client,
  upload: ObjectAddress & { uploadId: string },
  data: Uint8Array,
): Promise<CompletedPart[]> {
  const partBytes = Math.max(PART_BYTES, Math.ceil(data.length / MAX_PARTS));
  const count = Math.ceil(data.length / partBytes);
  const done: CompletedPart[] = new Array<CompletedPart>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      const index = next++;
      try {
        const body = data.subarray(index * partBytes, (index + 1) * partBytes);
        done[index] = await uploadPart(client, upload, index + 1, body);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARTS_AT_ONCE, count) }, worker));
  if (failure !== undefined) throw failure.error;
  return done;
}

async function uploadPart(
  client: S3Client,
  upload: ObjectAddress & { uploadId: string },
  PartNumber: number,
  Body: Uint8Array,
): Promise<CompletedPart> {
  const { ETag } = await client.send(
    new UploadPartCommand({
      Bucket: upload.bucket,
      Key: upload.key,
      UploadId: upload.uploadId,
      PartNumber,
      Body,
      ContentLength: Body.length,
    }),
  );
  if (ETag === undefined) throw new Error(`UploadPart ${PartNumber} answered without an ETag`);
  return { ETag, PartNumber };
}
