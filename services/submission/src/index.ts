export { submissionService, createSubmissionService, startSubmission, type SubmissionOptions } from "./service.ts";
export { submissionSchema, parseSubmissionSettings, type SubmissionSettings } from "./settings.ts";
