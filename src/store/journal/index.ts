export { JournalStore, type JournalOptions, type JournalStats } from './journal.js';
export { repairJournal, type RepairReport, verifyJournal, type VerifyReport } from './verify.js';
