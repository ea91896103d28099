<?php
/**
 * The one JSON shape every capture path sends: the lead fields in the daemon's names, the
 * visitor's context, and every submitted field under `form_fields`.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Builds the normalised payload from a form's fields and the visitor's context.
 */
final class Echo5_Leads_Payload {

	/**
	 * Lead fields the plugin fills, in the daemon's names.
	 */
	const LEAD_FIELDS = array( 'name', 'first_name', 'last_name', 'email', 'phone', 'message', 'company' );

	/**
	 * Field types that carry no lead data, or data that must never leave the site.
	 */
	const SKIPPED_TYPES = array( 'submit', 'html', 'hr', 'divider', 'pagebreak', 'page', 'section', 'step', 'captcha', 'recaptcha', 'hcaptcha', 'turnstile', 'honeypot', 'spam', 'password', 'acceptance' );

	/**
	 * Field names (compared loosely: lower case, letters and digits only, a `your-` prefix
	 * dropped) and the lead field each stands for.
	 */
	const ALIASES = array(
		'name'         => 'name',
		'fullname'     => 'name',
		'names'        => 'name',
		'contactname'  => 'name',
		'firstname'    => 'first_name',
		'fname'        => 'first_name',
		'first'        => 'first_name',
		'givenname'    => 'first_name',
		'lastname'     => 'last_name',
		'lname'        => 'last_name',
		'last'         => 'last_name',
		'surname'      => 'last_name',
		'familyname'   => 'last_name',
		'email'        => 'email',
		'emailaddress' => 'email',
		'mail'         => 'email',
		'phone'        => 'phone',
		'tel'          => 'phone',
		'telephone'    => 'phone',
		'mobile'       => 'phone',
		'phonenumber'  => 'phone',
		'cell'         => 'phone',
		'message'      => 'message',
		'comments'     => 'message',
		'comment'      => 'message',
		'enquiry'      => 'message',
		'inquiry'      => 'message',
		'notes'        => 'message',
		'details'      => 'message',
		'question'     => 'message',
		'questions'    => 'message',
		'company'      => 'company',
		'companyname'  => 'company',
		'organization' => 'company',
		'organisation' => 'company',
		'business'     => 'company',
		'utmsource'    => 'utm_source',
		'utmmedium'    => 'utm_medium',
		'utmcampaign'  => 'utm_campaign',
		'utmterm'      => 'utm_term',
		'utmcontent'   => 'utm_content',
		'gclid'        => 'gclid',
		'fbclid'       => 'fbclid',
	);

	/**
	 * Field types that say what a field is, whatever its name.
	 */
	const TYPES = array(
		'email'    => 'email',
		'tel'      => 'phone',
		'phone'    => 'phone',
		'textarea' => 'message',
	);

	/**
	 * A name reduced for comparison: `Your E-mail:` and `your-email` are both `email`.
	 *
	 * @param string $name Field name or label.
	 */
	public static function loose( string $name ): string {
		$name = strtolower( trim( $name ) );
		$name = preg_replace( '/^your[\-_ ]/', '', $name );
		return (string) preg_replace( '/[^a-z0-9]/', '', (string) $name );
	}

	/**
	 * The lead field a submitted field stands for, or '' for none.
	 *
	 * @param string $key   Its name in the form.
	 * @param string $label Its label.
	 * @param string $type  Its type in its plugin.
	 * @param string $value Its value as text.
	 */
	public static function target( string $key, string $label, string $type, string $value ): string {
		$type = strtolower( $type );
		foreach ( array( $key, $label ) as $name ) {
			$l = self::loose( $name );
			if ( '' !== $l && isset( self::ALIASES[ $l ] ) ) {
				return self::ALIASES[ $l ];
			}
		}
		if ( isset( self::TYPES[ $type ] ) ) {
			return self::TYPES[ $type ];
		}
		if ( is_email( $value ) ) {
			return 'email';
		}
		return '';
	}

	/**
	 * A field's value as one line of text: lists joined by ", ".
	 *
	 * @param mixed $value Submitted value.
	 */
	public static function text( $value ): string {
		if ( is_array( $value ) ) {
			$parts = array();
			array_walk_recursive(
				$value,
				static function ( $v ) use ( &$parts ) {
					if ( is_scalar( $v ) && '' !== trim( (string) $v ) ) {
						$parts[] = trim( (string) $v );
					}
				}
			);
			return implode( ', ', $parts );
		}
		if ( is_bool( $value ) ) {
			return $value ? '1' : '';
		}
		return is_scalar( $value ) ? trim( (string) $value ) : '';
	}

	/**
	 * The payload.
	 *
	 * @param array $form   `source`, `form_id`, `form_name`, `entry_id`, `page_url` (the
	 *                      form plugin's own page URL, if it has one), `ip`, `user_agent`.
	 * @param array $fields Each `key`, `label`, `type`, `value` (and optionally `target`,
	 *                      when the capture path knows better than the names).
	 * @return array<string,mixed>
	 */
	public static function build( array $form, array $fields ): array {
		$lead        = array();
		$form_fields = array();
		foreach ( $fields as $field ) {
			$type = strtolower( (string) ( $field['type'] ?? '' ) );
			if ( in_array( $type, self::SKIPPED_TYPES, true ) ) {
				continue;
			}
			$key   = (string) ( $field['key'] ?? '' );
			$label = (string) ( $field['label'] ?? '' );
			if ( '' === $key && '' === $label ) {
				continue;
			}
			$text   = self::text( $field['value'] ?? '' );
			$target = isset( $field['target'] ) ? (string) $field['target'] : self::target( $key, $label, $type, $text );
			$title  = '' !== $label ? $label : $key;
			if ( '' !== $text ) {
				$form_fields[ self::unique_key( $form_fields, $title ) ] = $text;
			}
			// The first field of a kind wins; later ones stay in form_fields only.
			if ( '' !== $target && '' !== $text && ! isset( $lead[ $target ] ) ) {
				$lead[ $target ] = $text;
			}
		}
		if ( ! isset( $lead['name'] ) && ( isset( $lead['first_name'] ) || isset( $lead['last_name'] ) ) ) {
			$lead['name'] = trim( ( $lead['first_name'] ?? '' ) . ' ' . ( $lead['last_name'] ?? '' ) );
		}

		$attribution = Echo5_Leads_Context::attribution();
		$page_url    = (string) ( $form['page_url'] ?? '' );
		if ( '' === $page_url ) {
			$page_url = Echo5_Leads_Context::referer_header();
		}
		// Attribution: a form's own hidden utm_* fields, then the session cookie, then the
		// page URL's query string.
		$from_url = Echo5_Leads_Context::attribution_in_url( $page_url );
		foreach ( Echo5_Leads_Context::ATTRIBUTION as $key ) {
			if ( ! isset( $lead[ $key ] ) ) {
				$value = $attribution[ $key ] ?? ( $from_url[ $key ] ?? '' );
				if ( '' !== $value ) {
					$lead[ $key ] = $value;
				}
			}
		}

		$payload = array_merge(
			$lead,
			array(
				'form_name'    => (string) ( $form['form_name'] ?? '' ),
				'page_url'     => $page_url,
				'referrer'     => $attribution['referrer'] ?? '',
				'landing_page' => $attribution['landing_page'] ?? '',
				'ip'           => (string) ( $form['ip'] ?? Echo5_Leads_Context::ip() ),
				'user_agent'   => (string) ( $form['user_agent'] ?? Echo5_Leads_Context::user_agent() ),
				'form_plugin'  => (string) ( $form['source'] ?? '' ),
				'form_id'      => (string) ( $form['form_id'] ?? '' ),
				'entry_id'     => (string) ( $form['entry_id'] ?? '' ),
				'site'         => home_url( '/' ),
				'submitted_at' => gmdate( 'Y-m-d\TH:i:s\Z' ),
			),
			Echo5_Leads_Context::click_cookies()
		);
		$payload = array_filter(
			$payload,
			static function ( $v ) {
				return '' !== $v && null !== $v;
			}
		);
		if ( array() !== $form_fields ) {
			$payload['form_fields'] = $form_fields;
		}
		return $payload;
	}

	/**
	 * `$title`, or `$title (2)`, … when a field of that title is already there.
	 *
	 * @param array  $taken Keys in use.
	 * @param string $title Wanted key.
	 */
	private static function unique_key( array $taken, string $title ): string {
		$key = $title;
		for ( $n = 2; isset( $taken[ $key ] ); $n++ ) {
			$key = $title . ' (' . $n . ')';
		}
		return $key;
	}

	/**
	 * The Idempotency-Key of a submission: stable for one entry of a form plugin that numbers
	 * its entries (so a hook that fires twice stores it once), random otherwise. The site part
	 * is a random id made once per installation, so a reinstalled site never reuses the keys
	 * of the one before.
	 *
	 * @param string $source   Capture path.
	 * @param string $form_id  Form id.
	 * @param string $entry_id Entry id in the form plugin, or ''.
	 */
	public static function idempotency_key( string $source, string $form_id, string $entry_id ): string {
		$site = (string) get_option( 'echo5_leads_site_id', '' );
		if ( '' === $site ) {
			$site = strtolower( wp_generate_password( 12, false, false ) );
			add_option( 'echo5_leads_site_id', $site, '', false );
			$site = (string) get_option( 'echo5_leads_site_id', $site );
		}
		$clean = static function ( string $s ): string {
			return substr( (string) preg_replace( '/[^A-Za-z0-9_.\-]/', '', $s ), 0, 40 );
		};
		$tail  = ( '' !== $entry_id && '0' !== $entry_id ) ? 'entry-' . $clean( $entry_id ) : wp_generate_uuid4();
		return 'wp-' . $clean( $site ) . '-' . $clean( $source ) . '-' . $clean( $form_id ) . '-' . $tail;
	}
}
