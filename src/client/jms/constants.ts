/** JMS constants, same numbers as javax.jms / jakarta.jms (INDIVIDUAL_ACKNOWLEDGE as in ActiveMQ). */
export const Session = {
  SESSION_TRANSACTED: 0,
  AUTO_ACKNOWLEDGE: 1,
  CLIENT_ACKNOWLEDGE: 2,
  DUPS_OK_ACKNOWLEDGE: 3,
  INDIVIDUAL_ACKNOWLEDGE: 4,
} as const;
export type AcknowledgeMode = (typeof Session)[keyof typeof Session];

export const DeliveryMode = { NON_PERSISTENT: 1, PERSISTENT: 2 } as const;
export type DeliveryModeValue = (typeof DeliveryMode)[keyof typeof DeliveryMode];

export const Message = {
  DEFAULT_DELIVERY_MODE: DeliveryMode.PERSISTENT,
  DEFAULT_PRIORITY: 4,
  DEFAULT_TIME_TO_LIVE: 0,
} as const;
