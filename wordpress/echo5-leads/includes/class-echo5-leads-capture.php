<?php
/**
 * Capture from the form plugins' own after-submit hooks. Each handler reads its plugin's
 * arguments, skips what that plugin marks as spam or demo, and stores the submission; none
 * of them does network I/O.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Hook handlers for Contact Form 7, WPForms, Gravity Forms, Elementor Pro, Fluent Forms and
 * Ninja Forms.
 */
final class Echo5_Leads_Capture {

	/**
	 * Hooks every supported plugin's after-submit action. A hook of a plugin that is not
	 * installed never fires, so nothing needs detecting.
	 */
	public static function register(): void {
		add_action( 'wpcf7_submit', array( __CLASS__, 'contact_form_7' ), 20, 2 );
		add_action( 'wpforms_process_complete', array( __CLASS__, 'wpforms' ), 20, 4 );
		add_action( 'gform_after_submission', array( __CLASS__, 'gravity_forms' ), 20, 2 );
		add_action( 'elementor_pro/forms/new_record', array( __CLASS__, 'elementor' ), 20, 2 );
		// Fluent Forms fires its legacy underscore name as well; one of the two is enough.
		add_action( 'fluentform/submission_inserted', array( __CLASS__, 'fluent_forms' ), 20, 3 );
		add_action( 'ninja_forms_after_submission', array( __CLASS__, 'ninja_forms' ), 20, 1 );
	}

	/**
	 * Stores one submission and asks for its immediate send at the end of the request.
	 *
	 * @param array $form   See Echo5_Leads_Payload::build.
	 * @param array $fields See Echo5_Leads_Payload::build.
	 * @return int The outbox row id, 0 when nothing was stored (a repeat, or filtered out),
	 *             Echo5_Leads_Outbox::NOT_STORED when the database refused it.
	 */
	public static function store( array $form, array $fields ): int {
		$payload = Echo5_Leads_Payload::build( $form, $fields );
		/**
		 * Filters the payload before it is queued; return false to drop the submission.
		 *
		 * @param array|false $payload The payload.
		 * @param array       $form    The form's description.
		 */
		$payload = apply_filters( 'echo5_leads_payload', $payload, $form );
		if ( ! is_array( $payload ) ) {
			return 0;
		}
		// Bytes that are not UTF-8 (a form plugin passing Latin-1) become U+FFFD rather than
		// losing the whole submission.
		$json = wp_json_encode( $payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE );
		if ( false === $json ) {
			return Echo5_Leads_Outbox::NOT_STORED;
		}
		$key = Echo5_Leads_Payload::idempotency_key( (string) ( $form['source'] ?? '' ), (string) ( $form['form_id'] ?? '' ), (string) ( $form['entry_id'] ?? '' ) );
		$id  = Echo5_Leads_Outbox::enqueue( $key, (string) ( $form['source'] ?? '' ), (string) ( $form['form_id'] ?? '' ), (string) ( $form['form_name'] ?? '' ), $json );
		Echo5_Leads_Sender::send_soon( $id );
		return $id;
	}

	/**
	 * Runs a handler so that nothing it throws can break the form plugin's own submission.
	 *
	 * @param callable $capture The capture.
	 */
	private static function guarded( callable $capture ): void {
		try {
			$capture();
		} catch ( \Throwable $e ) {
			// The visitor's submission goes on; the site's log says why it was not queued.
			error_log( 'echo5-leads: could not queue a submission: ' . $e->getMessage() ); // phpcs:ignore Generic.PHP.ForbiddenFunctions.Found -- a log line is the only place to tell.
		}
	}

	/**
	 * Reads `$key` of an array or a public property of an object.
	 *
	 * @param mixed  $thing   Array or object.
	 * @param string $key     Key.
	 * @param mixed  $default What to return when absent.
	 * @return mixed
	 */
	private static function get( $thing, string $key, $default = null ) {
		if ( is_array( $thing ) || $thing instanceof \ArrayAccess ) {
			return isset( $thing[ $key ] ) ? $thing[ $key ] : $default;
		}
		if ( is_object( $thing ) && isset( $thing->$key ) ) {
			return $thing->$key;
		}
		return $default;
	}

	/**
	 * Contact Form 7: `wpcf7_submit( $contact_form, $result )`. Taken when the mail went out or
	 * failed (the submission itself was valid); never for spam, validation failures or a form
	 * in demo mode.
	 *
	 * @param object $contact_form WPCF7_ContactForm.
	 * @param array  $result       `status` among others.
	 */
	public static function contact_form_7( $contact_form, $result = array() ): void {
		self::guarded(
			static function () use ( $contact_form, $result ) {
				$status = (string) self::get( $result, 'status', '' );
				if ( ! in_array( $status, array( 'mail_sent', 'mail_failed' ), true ) ) {
					return;
				}
				if ( ! is_object( $contact_form ) || ( method_exists( $contact_form, 'in_demo_mode' ) && $contact_form->in_demo_mode() ) ) {
					return;
				}
				if ( ! class_exists( 'WPCF7_Submission' ) ) {
					return;
				}
				$submission = WPCF7_Submission::get_instance();
				if ( ! $submission ) {
					return;
				}
				$types = array();
				if ( method_exists( $contact_form, 'scan_form_tags' ) ) {
					foreach ( (array) $contact_form->scan_form_tags() as $tag ) {
						$name = (string) self::get( $tag, 'name', '' );
						if ( '' !== $name ) {
							$types[ $name ] = (string) self::get( $tag, 'basetype', self::get( $tag, 'type', '' ) );
						}
					}
				}
				$fields = array();
				foreach ( (array) $submission->get_posted_data() as $name => $value ) {
					$name = (string) $name;
					if ( '' === $name || '_' === $name[0] ) {
						continue;
					}
					$fields[] = array(
						'key'   => $name,
						'label' => '',
						'type'  => $types[ $name ] ?? '',
						'value' => $value,
					);
				}
				self::store(
					array(
						'source'     => 'cf7',
						'form_id'    => (string) ( method_exists( $contact_form, 'id' ) ? $contact_form->id() : '' ),
						'form_name'  => (string) ( method_exists( $contact_form, 'title' ) ? $contact_form->title() : '' ),
						'entry_id'   => '',
						'page_url'   => (string) $submission->get_meta( 'url' ),
						'ip'         => (string) $submission->get_meta( 'remote_ip' ),
						'user_agent' => (string) $submission->get_meta( 'user_agent' ),
					),
					$fields
				);
			}
		);
	}

	/**
	 * WPForms: `wpforms_process_complete( $fields, $entry, $form_data, $entry_id )`. WPForms
	 * does not fire it for entries it marks as spam. `$entry_id` is 0 in WPForms Lite.
	 *
	 * @param array $fields    `[id => [name, value, id, type, first?, last?, …]]`.
	 * @param array $entry     The raw posted entry.
	 * @param array $form_data The form, with `settings.form_title` and `entry_meta`.
	 * @param int   $entry_id  Entry id, 0 without WPForms Pro.
	 */
	public static function wpforms( $fields, $entry = array(), $form_data = array(), $entry_id = 0 ): void {
		self::guarded(
			static function () use ( $fields, $form_data, $entry_id ) {
				$out = array();
				foreach ( (array) $fields as $field ) {
					$type  = (string) self::get( $field, 'type', '' );
					$label = (string) self::get( $field, 'name', '' );
					if ( 'name' === $type && ( '' !== (string) self::get( $field, 'first', '' ) || '' !== (string) self::get( $field, 'last', '' ) ) ) {
						$out[] = array(
							'key'    => 'first_name',
							'label'  => $label . ' (first)',
							'type'   => 'text',
							'value'  => self::get( $field, 'first', '' ),
							'target' => 'first_name',
						);
						$out[] = array(
							'key'    => 'last_name',
							'label'  => $label . ' (last)',
							'type'   => 'text',
							'value'  => self::get( $field, 'last', '' ),
							'target' => 'last_name',
						);
					}
					$out[] = array(
						'key'    => 'field_' . (string) self::get( $field, 'id', '' ),
						'label'  => $label,
						'type'   => $type,
						'value'  => self::get( $field, 'value', '' ),
						'target' => 'name' === $type ? 'name' : null,
					);
				}
				$out      = array_map( array( __CLASS__, 'drop_null_target' ), $out );
				$settings = (array) self::get( $form_data, 'settings', array() );
				$meta     = (array) self::get( $form_data, 'entry_meta', array() );
				self::store(
					array(
						'source'    => 'wpforms',
						'form_id'   => (string) self::get( $form_data, 'id', '' ),
						'form_name' => (string) ( $settings['form_title'] ?? '' ),
						'entry_id'  => (int) $entry_id > 0 ? (string) (int) $entry_id : '',
						'page_url'  => (string) ( $meta['page_url'] ?? '' ),
					),
					$out
				);
			}
		);
	}

	/**
	 * Gravity Forms: `gform_after_submission( $entry, $form )`. Gravity Forms saves spam
	 * entries with status `spam` and still fires the hook, so those are skipped here.
	 *
	 * @param array $entry Values keyed by field id (`1`, `1.3`), plus `id`, `source_url`, `ip`,
	 *                     `user_agent`, `status`.
	 * @param array $form  `id`, `title`, `fields` (GF_Field objects: id, label, type, inputs).
	 */
	public static function gravity_forms( $entry, $form = array() ): void {
		self::guarded(
			static function () use ( $entry, $form ) {
				if ( 'spam' === (string) self::get( $entry, 'status', '' ) ) {
					return;
				}
				$out = array();
				foreach ( (array) self::get( $form, 'fields', array() ) as $field ) {
					$id     = (string) self::get( $field, 'id', '' );
					$label  = (string) self::get( $field, 'label', '' );
					$type   = (string) self::get( $field, 'type', '' );
					$inputs = self::get( $field, 'inputs', null );
					if ( is_array( $inputs ) && array() !== $inputs ) {
						if ( 'name' === $type ) {
							$first = '';
							$last  = '';
							foreach ( $inputs as $input ) {
								$input_id = (string) self::get( $input, 'id', '' );
								if ( str_ends_with( $input_id, '.3' ) ) {
									$first = (string) self::get( $entry, $input_id, '' );
								} elseif ( str_ends_with( $input_id, '.6' ) ) {
									$last = (string) self::get( $entry, $input_id, '' );
								}
							}
							$out[] = array(
								'key'    => 'first_name',
								'label'  => $label . ' (first)',
								'type'   => 'text',
								'value'  => $first,
								'target' => 'first_name',
							);
							$out[] = array(
								'key'    => 'last_name',
								'label'  => $label . ' (last)',
								'type'   => 'text',
								'value'  => $last,
								'target' => 'last_name',
							);
							continue;
						}
						if ( 'email' === $type ) {
							// An e-mail field with confirmation: the address and its repeat.
							$first = reset( $inputs );
							$out[] = array(
								'key'   => 'input_' . $id,
								'label' => $label,
								'type'  => 'email',
								'value' => self::get( $entry, (string) self::get( $first, 'id', $id ), '' ),
							);
							continue;
						}
						// Address, checkboxes and the like: the sub-values together.
						$parts = array();
						foreach ( $inputs as $input ) {
							$value = (string) self::get( $entry, (string) self::get( $input, 'id', '' ), '' );
							if ( '' !== $value ) {
								$parts[] = $value;
							}
						}
						$value = $parts;
					} else {
						$value = self::get( $entry, $id, '' );
					}
					$out[] = array(
						'key'   => 'input_' . $id,
						'label' => $label,
						'type'  => 'phone' === $type ? 'tel' : $type,
						'value' => $value,
					);
				}
				self::store(
					array(
						'source'     => 'gravityforms',
						'form_id'    => (string) self::get( $form, 'id', '' ),
						'form_name'  => (string) self::get( $form, 'title', '' ),
						'entry_id'   => (string) self::get( $entry, 'id', '' ),
						'page_url'   => (string) self::get( $entry, 'source_url', '' ),
						'ip'         => (string) self::get( $entry, 'ip', '' ),
						'user_agent' => (string) self::get( $entry, 'user_agent', '' ),
					),
					$out
				);
			}
		);
	}

	/**
	 * Elementor Pro: `elementor_pro/forms/new_record( $record, $ajax_handler )`. It fires after
	 * validation (honeypot and CAPTCHA fields included), so every record is a real submission;
	 * it is taken even when one of the form's own actions failed.
	 *
	 * @param object $record       Form_Record: get('fields'), get_form_settings(), get_form_meta().
	 * @param object $ajax_handler Ajax_Handler.
	 */
	public static function elementor( $record, $ajax_handler = null ): void {
		self::guarded(
			static function () use ( $record ) {
				if ( ! is_object( $record ) || ! method_exists( $record, 'get' ) ) {
					return;
				}
				$out = array();
				foreach ( (array) $record->get( 'fields' ) as $id => $field ) {
					$out[] = array(
						'key'   => (string) self::get( $field, 'id', $id ),
						'label' => (string) self::get( $field, 'title', '' ),
						'type'  => (string) self::get( $field, 'type', '' ),
						'value' => self::get( $field, 'value', '' ),
					);
				}
				$meta = method_exists( $record, 'get_form_meta' ) ? (array) $record->get_form_meta( array( 'page_url', 'remote_ip', 'user_agent' ) ) : array();
				$form = array(
					'source'    => 'elementor',
					'form_id'   => (string) $record->get_form_settings( 'id' ),
					'form_name' => (string) $record->get_form_settings( 'form_name' ),
					'entry_id'  => '',
					'page_url'  => (string) self::get( self::get( $meta, 'page_url', array() ), 'value', '' ),
				);
				foreach ( array(
					'remote_ip'  => 'ip',
					'user_agent' => 'user_agent',
				) as $meta_key => $form_key ) {
					$value = (string) self::get( self::get( $meta, $meta_key, array() ), 'value', '' );
					if ( '' !== $value ) {
						$form[ $form_key ] = $value;
					}
				}
				self::store( $form, $out );
			}
		);
	}

	/**
	 * Fluent Forms: `fluentform/submission_inserted( $insert_id, $form_data, $form )`.
	 * `$form_data` is the posted form: input names as keys (`names[first_name]` arrives as
	 * `names => [first_name, last_name]`), plus Fluent's own underscore fields.
	 *
	 * Spam: Fluent's honeypot and CAPTCHAs refuse a submission before the hook, and so do
	 * Akismet and CleanTalk set to "validation failed" or "mark as spam and skip processing".
	 * Set to "mark as spam", they store the entry with status `spam` and the hook fires for
	 * it; the arguments do not say so, so the entry's row is read (`fluentform_submissions`).
	 *
	 * @param int    $insert_id Submission id.
	 * @param array  $form_data Posted data.
	 * @param object $form      Form: `id`, `title`.
	 */
	public static function fluent_forms( $insert_id, $form_data = array(), $form = null ): void {
		self::guarded(
			static function () use ( $insert_id, $form_data, $form ) {
				if ( self::fluent_forms_spam( (int) $insert_id ) ) {
					return;
				}
				$out = array();
				foreach ( (array) $form_data as $name => $value ) {
					$name = (string) $name;
					if ( '' === $name || '_' === $name[0] ) {
						continue;
					}
					if ( is_array( $value ) && ( isset( $value['first_name'] ) || isset( $value['last_name'] ) ) ) {
						foreach ( array( 'first_name', 'middle_name', 'last_name' ) as $part ) {
							if ( isset( $value[ $part ] ) ) {
								$out[] = array(
									'key'   => $part,
									'label' => $name . '[' . $part . ']',
									'type'  => 'text',
									'value' => $value[ $part ],
								);
							}
						}
						continue;
					}
					$out[] = array(
						'key'   => $name,
						'label' => '',
						'type'  => '',
						'value' => $value,
					);
				}
				$page_url = '';
				$referer  = (string) self::get( $form_data, '_wp_http_referer', '' );
				if ( '' !== $referer && '/' === $referer[0] ) {
					$home     = wp_parse_url( home_url( '/' ) );
					$page_url = esc_url_raw( ( $home['scheme'] ?? 'https' ) . '://' . ( $home['host'] ?? '' ) . ( isset( $home['port'] ) ? ':' . $home['port'] : '' ) . $referer );
				}
				self::store(
					array(
						'source'    => 'fluentforms',
						'form_id'   => (string) self::get( $form, 'id', '' ),
						'form_name' => (string) self::get( $form, 'title', '' ),
						'entry_id'  => (string) (int) $insert_id,
						'page_url'  => $page_url,
					),
					$out
				);
			}
		);
	}

	/**
	 * Whether Fluent Forms stored an entry as spam (`status` of its `fluentform_submissions`
	 * row). No row, or no table, is not spam: the lead is kept.
	 *
	 * @param int $insert_id The entry's id.
	 */
	private static function fluent_forms_spam( int $insert_id ): bool {
		global $wpdb;
		if ( $insert_id <= 0 ) {
			return false;
		}
		$table  = $wpdb->prefix . 'fluentform_submissions';
		$quiet  = $wpdb->suppress_errors( true );
		$status = $wpdb->get_var( $wpdb->prepare( "SELECT status FROM {$table} WHERE id = %d", $insert_id ) );
		$wpdb->suppress_errors( $quiet );
		return 'spam' === $status;
	}

	/**
	 * Ninja Forms: `ninja_forms_after_submission( $form_data )`. Its spam and CAPTCHA fields
	 * stop a submission before this hook; their fields are skipped by type.
	 *
	 * @param array $form_data `form_id`, `settings.title`, `fields[id] = [key, value, label,
	 *                         type]`, `actions.save.sub_id` when a Save action exists.
	 */
	public static function ninja_forms( $form_data ): void {
		self::guarded(
			static function () use ( $form_data ) {
				$out = array();
				foreach ( (array) self::get( $form_data, 'fields', array() ) as $field ) {
					$settings = (array) self::get( $field, 'settings', array() );
					$type     = (string) self::get( $field, 'type', $settings['type'] ?? '' );
					$out[]    = array(
						'key'   => (string) self::get( $field, 'key', $settings['key'] ?? '' ),
						'label' => (string) self::get( $field, 'label', $settings['label'] ?? '' ),
						'type'  => 'phone' === $type ? 'tel' : $type,
						'value' => self::get( $field, 'value', '' ),
					);
				}
				$settings = (array) self::get( $form_data, 'settings', array() );
				$actions  = (array) self::get( $form_data, 'actions', array() );
				$save     = (array) ( $actions['save'] ?? array() );
				self::store(
					array(
						'source'    => 'ninjaforms',
						'form_id'   => (string) self::get( $form_data, 'form_id', '' ),
						'form_name' => (string) ( $settings['title'] ?? '' ),
						'entry_id'  => (string) ( $save['sub_id'] ?? '' ),
					),
					$out
				);
			}
		);
	}

	/**
	 * Removes a `target` of null, so the payload builder guesses that field's meaning itself.
	 *
	 * @param array $field A field.
	 */
	private static function drop_null_target( array $field ): array {
		if ( array_key_exists( 'target', $field ) && null === $field['target'] ) {
			unset( $field['target'] );
		}
		return $field;
	}
}
